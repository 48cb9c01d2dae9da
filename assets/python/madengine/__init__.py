"""Minimal stand-in for the madengine Python package, shipped by madengine Control Center.

It exists only so that MAD zoo files written for the original tool
(`scripts/<dir>/get_models_json.py` doing `from madengine.tools.discover_models import CustomModel`)
run unchanged when madengine-cli (TypeScript) discovers models.
"""
