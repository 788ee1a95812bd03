"""``python -m smm_publisher``: settings from the environment, then serve."""

from smm_publisher.main import create_app
from smm_publisher.settings import PublisherSettings
from smm_shared.serve import serve

if __name__ == "__main__":
    serve(PublisherSettings, create_app)
