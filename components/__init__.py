"""Custom Rasa parts, referenced by module path: NLU components from config.yml
(indic_normalizer, language_entity, nlu_metrics) and the lock store from endpoints.yml
(lock_store.AtomicRedisLockStore, for several instances).

Importing this package changes nothing in Rasa; the one change to Rasa's behaviour the
assistant makes (action_response_check.py) is installed explicitly by `rasa run`'s set-up.
"""
