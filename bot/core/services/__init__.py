"""The core's services, one job each; the StudyService facade (bot/core/service.py) composes them."""
