"""``python -m smm_console``: settings from the environment, then serve."""

from smm_console.main import create_app
from smm_console.settings import ConsoleSettings
from smm_shared.serve import serve

if __name__ == "__main__":
    serve(ConsoleSettings, create_app)
