"""``python -m smm_ingest``: settings from the environment, then serve."""

from smm_ingest.main import create_app
from smm_ingest.settings import IngestSettings
from smm_shared.serve import serve

if __name__ == "__main__":
    serve(IngestSettings, create_app)
