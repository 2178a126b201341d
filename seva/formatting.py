"""Numbers as a citizen reads them, shared by the actions and the WhatsApp channel."""
from __future__ import annotations


def rupees(amount: int) -> str:
    """Indian digit grouping: 1250000 → ₹12,50,000."""
    digits = str(abs(int(amount)))
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        digits = ",".join(groups + [tail])
    return f"₹{digits}"
