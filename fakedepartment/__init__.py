"""A stand-in for a department's application service, on loopback, for tests and ``make run``
demos: it takes Seva's signed submissions and posts signed status changes back."""
from fakedepartment.server import FakeDepartment

__all__ = ["FakeDepartment"]
