"""Seva on several processes: private PostgreSQL, Redis and HAProxy servers run from
Debian's binaries (`services.py`), and `python -m cluster` (`make cluster`), which starts
them with INSTANCES x (action server + `rasa run`) behind the balancer."""
