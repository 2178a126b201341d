"""A faithful stand-in for Meta's WhatsApp Cloud (Graph) API, on loopback, for tests and local use."""
