"""Custom Rasa NLU components, referenced from config.yml by module path.

Rasa imports this package in every process that loads the model, so the one change to
Rasa's own behaviour that the assistant needs is applied here (see action_response_check.py).
"""
from components import action_response_check

action_response_check.apply()
