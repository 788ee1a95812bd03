"""``python -m smm_responder``: settings from the environment, then serve."""

from smm_responder.main import create_app
from smm_responder.settings import ResponderSettings
from smm_shared.serve import serve

if __name__ == "__main__":
    serve(ResponderSettings, create_app)
