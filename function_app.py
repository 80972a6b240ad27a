"""The Functions entry point: registers the blueprints. Nothing else."""

import azure.functions as func

from functions.run_triggers import bp as run_triggers

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(run_triggers)
