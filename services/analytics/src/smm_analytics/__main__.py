"""``python -m smm_analytics``: settings from the environment, then serve."""

from smm_analytics.main import create_app
from smm_analytics.settings import AnalyticsSettings
from smm_shared.serve import serve

if __name__ == "__main__":
    serve(AnalyticsSettings, create_app)
