"""Input/output channels: the WhatsApp Cloud API channel and its parts."""
