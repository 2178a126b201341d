"""Seva assistant: the domain logic shared by the Rasa actions, the channel and the tools.

Nothing in this package imports Rasa: catalog, search, validation, the application store
and text normalisation are plain Python so they can be tested and reused on their own.
"""
