"""rasa-sdk custom actions. Each module has one job; the domain logic lives in ``seva``."""
