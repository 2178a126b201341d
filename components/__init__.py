"""Custom Rasa NLU components, referenced from config.yml by module path.

Importing this package changes nothing in Rasa; the one change to Rasa's behaviour the
assistant makes (action_response_check.py) is installed explicitly by `rasa run`'s set-up.
"""
