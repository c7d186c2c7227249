"""Serving the app beyond one process: replicas behind nginx (replicas.py), the container and Kubernetes files."""
