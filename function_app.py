"""The Functions entry point: registers the blueprints. Nothing else."""

import azure.functions as func

from functions.http_directory import bp as http_directory
from functions.http_health import bp as http_health
from functions.http_me import bp as http_me
from functions.http_monitoring import bp as http_monitoring
from functions.http_openapi import bp as http_openapi
from functions.http_reads import bp as http_reads
from functions.http_run_commands import bp as http_run_commands
from functions.notification_triggers import bp as notification_triggers
from functions.overview_triggers import bp as overview_triggers
from functions.retention_triggers import bp as retention_triggers
from functions.run_triggers import bp as run_triggers
from functions.telemetry_triggers import bp as telemetry_triggers

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(run_triggers)
app.register_functions(notification_triggers)
app.register_functions(retention_triggers)
app.register_functions(overview_triggers)
app.register_functions(telemetry_triggers)
app.register_functions(http_health)
app.register_functions(http_reads)
app.register_functions(http_run_commands)
app.register_functions(http_directory)
app.register_functions(http_monitoring)
app.register_functions(http_me)
app.register_functions(http_openapi)
