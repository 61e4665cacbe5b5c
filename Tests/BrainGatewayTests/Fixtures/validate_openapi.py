"""Validates the gateway's OpenAPI document (openapi-spec-validator) and real responses
against its schemas (jsonschema, draft 2020-12). Input: a JSON file
{"document": {...}, "cases": [{"name": ..., "schema": "Service", "body": {...}}]}.
Prints one line per failure; exit code 1 if any."""
import json
import sys

import jsonschema
from openapi_spec_validator import validate

with open(sys.argv[1]) as f:
    payload = json.load(f)
document = payload["document"]
failures = []
try:
    validate(document)
except Exception as error:  # noqa: BLE001 - any problem is a failure to report
    failures.append(f"document: {str(error).splitlines()[0]}")
for case in payload["cases"]:
    schema = {"$ref": f"#/components/schemas/{case['schema']}", "components": document["components"]}
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for error in validator.iter_errors(case["body"]):
        failures.append(f"{case['name']} ({case['schema']}): {error.message} at {list(error.absolute_path)}")
for line in failures:
    print(line)
sys.exit(1 if failures else 0)
