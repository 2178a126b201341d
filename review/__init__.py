"""The conversation designers' review loop: see where real conversations fail, fix, prove the fix.

``make review`` reads Rasa's tracker store and the application store and writes
``results/review/index.html`` (build.py): conversations needing attention (findings.py)
with their NLU parse per message (conversations.py), funnels per service and language
(funnel.py), and the model's reports (reports.py). Served by the chat page at
``/review/`` (server.py), its buttons save an NLU example or a test story (edits.py).
"""
