/// The OpenAPI 3.1 description of the gateway's own API (`/openapi.json`), kept true by
/// `OpenAPITests`: every admin route is in it, every operation in it exists, and real responses
/// validate against its schemas.
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Brain Gateway",
    "version": "1.0.0",
    "description": "The gateway's own API: health, the admin REST API (role platform-admin), domain events and metrics, workflow definitions and runs, tenants' integrations and their outbound proxy. Every `/{service}/{path}` request is proxied to the service's instances (see the README); errors from both planes share the Error shape."
  },
  "servers": [{"url": "/"}],
  "components": {
    "securitySchemes": {
      "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A JWT with sub, tenant_id (UUID), roles and exp; the admin API needs the role platform-admin."}
    },
    "parameters": {
      "Name": {"name": "name", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^(?!(api|health|metrics|graphql|ws|docs|dashboard)$)[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"}, "description": "Service name."},
      "Tenant": {"name": "X-Tenant-ID", "in": "header", "required": false, "schema": {"type": "string", "format": "uuid"}, "description": "The tenant whose service is addressed (none: the global service; present but not a UUID, empty included: 422)."},
      "WorkflowName": {"name": "name", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^(?!(api|health|metrics|graphql|ws|docs|dashboard)$)[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"}, "description": "Workflow name (service-name rules)."},
      "RunID": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}, "description": "Run id."},
      "IfMatch": {"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"}, "description": "The ETag of the version the change is based on, or *; a stale or unknown one gets 412."}
    },
    "responses": {
      "Unauthorized": {"description": "No token, or an invalid one.", "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Forbidden": {"description": "A valid token without platform-admin.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "No such service.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Invalid": {"description": "Invalid input; `field` names the offending field.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationError"}}}},
      "Stale": {"description": "If-Match names a version that is no longer current (the current ETag is returned).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotAllowed": {"description": "A method this path does not serve; Allow lists those it does.", "headers": {"Allow": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Service": {"description": "The service document.", "headers": {"ETag": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Service"}}}}
    },
    "schemas": {
      "Error": {
        "type": "object", "required": ["error", "detail", "request_id"],
        "properties": {"error": {"type": "string"}, "detail": {"type": "string"}, "request_id": {"type": "string"}}
      },
      "ValidationError": {
        "type": "object", "required": ["error", "detail", "request_id", "field"],
        "properties": {"error": {"const": "invalid_request"}, "detail": {"type": "string"}, "request_id": {"type": "string"}, "field": {"type": "string"}}
      },
      "Route": {
        "type": "object", "required": ["path"], "additionalProperties": false,
        "properties": {
          "path": {"type": "string", "pattern": "^(/|(?!.*/\\.\\.?(/|$))(?!.*\\{([A-Za-z0-9_]+)\\}.*\\{\\3\\})(/([^\\u0000-\\u0020\\u007f?#\\\\/{}]+|\\{[A-Za-z0-9_]+\\}))+/?)$", "description": "Pattern such as /campaigns/{id}: literal segments and {parameters}, no '.' or '..' segments."},
          "methods": {"type": "array", "items": {"enum": ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]}, "description": "Empty: every method."},
          "roles": {"type": "array", "items": {"type": "string"}, "description": "Any one of them is needed; empty: any caller."}
        }
      },
      "Instance": {
        "oneOf": [
          {"type": "string", "pattern": "^https?://(\\[(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|:((:[0-9A-Fa-f]{1,4}){1,7}|:))\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?/?$", "description": "http(s)://host[:port]"},
          {"type": "object", "required": ["url"], "additionalProperties": false, "properties": {"url": {"type": "string", "pattern": "^https?://(\\[(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|:((:[0-9A-Fa-f]{1,4}){1,7}|:))\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?/?$"}, "weight": {"type": "integer", "minimum": 1, "maximum": 1000}}}
        ]
      },
      "RateLimit": {"type": "object", "additionalProperties": false, "properties": {"requests": {"type": "integer", "minimum": 1, "maximum": 1000000000}, "window_seconds": {"type": "integer", "minimum": 1, "maximum": 86400}}},
      "HealthCheck": {"type": "object", "additionalProperties": false, "description": "Active health checks: this many failed probes in a row take an instance out of rotation, this many successes bring it back.", "properties": {"unhealthy_threshold": {"type": "integer", "minimum": 1, "maximum": 100, "default": 2}, "healthy_threshold": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1}}},
      "CircuitBreaker": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "failure_threshold": {"type": "integer", "minimum": 1, "maximum": 1000000}, "open_seconds": {"type": "integer", "minimum": 1, "maximum": 86400},
          "max_open_seconds": {"type": "integer", "minimum": 1, "maximum": 86400, "description": "At least open_seconds."}, "half_open_requests": {"type": "integer", "minimum": 1, "maximum": 1000},
          "failure_statuses": {"type": "array", "items": {"type": "integer", "minimum": 100, "maximum": 599}},
          "max_ejection_percent": {"type": "integer", "minimum": 0, "maximum": 100}
        }
      },
      "Retry": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "retries": {"type": "integer", "minimum": 0, "maximum": 10}, "backoff_ms": {"type": "integer", "minimum": 0, "maximum": 3600000}, "max_backoff_ms": {"type": "integer", "minimum": 0, "maximum": 3600000, "description": "At least backoff_ms."},
          "budget_percent": {"type": "integer", "minimum": 0, "maximum": 1000}, "budget_min_per_second": {"type": "integer", "minimum": 0, "maximum": 100000}
        }
      },
      "Cache": {
        "type": "object", "additionalProperties": false,
        "properties": {"enabled": {"type": "boolean"}, "ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 31536000}, "max_body_bytes": {"type": "integer", "minimum": 0, "maximum": 1073741824}}
      },
      "ServiceInput": {
        "type": "object", "required": ["name"], "additionalProperties": false,
        "oneOf": [{"required": ["url"]}, {"required": ["instances"]}],
        "description": "A service document as sent: `instances` (or `url` for one), everything else optional with the configured defaults.",
        "properties": {
          "name": {"type": "string", "pattern": "^(?!(api|health|metrics|graphql|ws|docs|dashboard)$)[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"},
          "url": {"type": "string", "pattern": "^https?://(\\[(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|:((:[0-9A-Fa-f]{1,4}){1,7}|:))\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?/?$"},
          "instances": {"type": "array", "minItems": 1, "uniqueItems": true, "items": {"$ref": "#/components/schemas/Instance"}},
          "base_path": {"type": "string", "pattern": "^(?!.*//)(?!.*/\\.\\.?(/|$))/[^\\u0000-\\u0020\\u007f?#\\\\]*$"}, "health_path": {"type": "string", "pattern": "^/[^\\u0000-\\u0020\\u007f#\\\\]*$"},
          "tenant_id": {"type": ["string", "null"], "format": "uuid", "description": "Absent or null: the tenant X-Tenant-ID addresses, else global. Naming another tenant than X-Tenant-ID is refused (422); on PUT, the name must be the one in the path (422)."},
          "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 3600000},
          "rate_limit": {"$ref": "#/components/schemas/RateLimit"},
          "circuit_breaker": {"$ref": "#/components/schemas/CircuitBreaker"},
          "load_balancing": {"enum": ["peak_ewma", "least_request", "round_robin"]},
          "retry": {"$ref": "#/components/schemas/Retry"},
          "cache": {"$ref": "#/components/schemas/Cache"},
          "health_check": {"$ref": "#/components/schemas/HealthCheck"},
          "roles": {"type": "array", "items": {"type": "string"}},
          "routes": {"type": "array", "items": {"$ref": "#/components/schemas/Route"}},
          "status": {"type": "string", "readOnly": true, "description": "Ignored on input."}
        }
      },
      "Service": {
        "type": "object", "additionalProperties": false,
        "required": ["name", "instances", "base_path", "health_path", "tenant_id", "timeout_ms", "rate_limit", "circuit_breaker", "load_balancing", "retry", "cache", "health_check", "roles", "routes", "status"],
        "properties": {
          "name": {"type": "string"},
          "instances": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Instance"}},
          "base_path": {"type": "string"}, "health_path": {"type": "string"},
          "tenant_id": {"type": ["string", "null"], "format": "uuid"},
          "timeout_ms": {"type": "integer"},
          "rate_limit": {"$ref": "#/components/schemas/RateLimit"},
          "circuit_breaker": {"$ref": "#/components/schemas/CircuitBreaker"},
          "load_balancing": {"enum": ["peak_ewma", "least_request", "round_robin"]},
          "retry": {"$ref": "#/components/schemas/Retry"},
          "cache": {"$ref": "#/components/schemas/Cache"},
          "health_check": {"$ref": "#/components/schemas/HealthCheck"},
          "roles": {"type": "array", "items": {"type": "string"}},
          "routes": {"type": "array", "items": {"$ref": "#/components/schemas/Route"}},
          "status": {"enum": ["healthy", "degraded", "down"]}
        }
      },
      "ServiceList": {"type": "object", "required": ["services"], "properties": {"services": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}}}},
      "Event": {
        "type": "object", "required": ["id", "type", "occurred_at", "tenant_id", "data"], "additionalProperties": false,
        "properties": {
          "id": {"type": "integer"}, "type": {"type": "string"}, "occurred_at": {"type": "string", "format": "date-time"},
          "tenant_id": {"type": ["string", "null"]},
          "data": {"description": "The service (registry, health and breaker events) or the workflow (Workflow* events, with run_id for runs) the event is about.",
            "oneOf": [{"type": "object", "required": ["service"], "properties": {"service": {"type": "string"}}},
                      {"type": "object", "required": ["workflow"], "properties": {"workflow": {"type": "string"}, "run_id": {"type": "string"}}}]}
        }
      },
      "EventList": {"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}},
      "Health": {
        "type": "object", "required": ["status", "services", "timestamp"],
        "properties": {
          "status": {"enum": ["healthy", "degraded"]},
          "timestamp": {"type": "string"},
          "services": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["status", "response_time_ms"],
            "properties": {"status": {"enum": ["healthy", "degraded", "down"]}, "response_time_ms": {"type": ["number", "null"]}, "instances": {"type": "object"}}
          }}
        }
      },
      "Readiness": {
        "type": "object", "required": ["status", "checks"],
        "properties": {"status": {"enum": ["ready", "not_ready"]}, "checks": {"type": "object", "additionalProperties": {"type": "string"}}}
      },
      "DetailedHealth": {
        "type": "object", "required": ["services"],
        "properties": {"services": {"type": "array", "items": {
          "type": "object", "required": ["name", "tenant_id", "status", "response_time_ms", "instances"],
          "properties": {
            "name": {"type": "string"}, "tenant_id": {"type": ["string", "null"]}, "status": {"enum": ["healthy", "degraded", "down"]},
            "response_time_ms": {"type": ["number", "null"]},
            "instances": {"type": "array", "items": {
              "type": "object", "required": ["url", "status", "response_time_ms", "consecutive_failures", "breaker"],
              "properties": {
                "url": {"type": "string"}, "status": {"enum": ["healthy", "degraded", "down"]}, "response_time_ms": {"type": ["number", "null"]},
                "consecutive_failures": {"type": "integer"}, "breaker": {"enum": ["closed", "open", "half_open"]}, "last_error": {"type": "string"}
              }
            }}
          }
        }}}
      },
      "AutonomousDecision": {
        "type": "object", "required": ["id", "at", "service", "rule", "evidence", "action", "mode", "outcome"],
        "properties": {
          "id": {"type": "integer"}, "at": {"type": "number", "description": "Unix seconds."}, "service": {"type": "string"},
          "tenant_id": {"type": "string"}, "rule": {"enum": ["optimize", "self_heal"]},
          "evidence": {"type": "object", "required": ["p95_ms", "error_rate", "requests"], "properties": {"p95_ms": {"type": "number"}, "error_rate": {"type": "number"}, "requests": {"type": "integer"}}},
          "action": {"enum": ["reduce_weight", "restore_weight", "call_agent", "run_workflow", "recovered", "rolled_back"]},
          "mode": {"enum": ["act", "dry_run"]}, "outcome": {"enum": ["applied", "started", "failed", "recorded"]},
          "instance": {"type": "string"}, "from_weight": {"type": "integer"}, "to_weight": {"type": "integer"},
          "run_id": {"type": "string", "description": "The agent call's or the self-healing workflow's run (outcome started)."},
          "error": {"type": "string", "description": "Why it failed (outcome failed)."}
        }
      },
      "DecisionList": {
        "type": "object", "required": ["decisions"],
        "properties": {"decisions": {"type": "array", "items": {"$ref": "#/components/schemas/AutonomousDecision"}}}
      },
      "Optimiser": {
        "type": "object", "required": ["mode", "paused", "interval_seconds", "window_seconds", "last_analysis_at", "services", "decisions"],
        "properties": {
          "mode": {"enum": ["act", "dry_run", "off"]}, "paused": {"type": "boolean"},
          "interval_seconds": {"type": "number"}, "window_seconds": {"type": "number"},
          "last_analysis_at": {"type": ["number", "null"]},
          "services": {"type": "object", "description": "By service name (tenant/name for a tenant's service): the latest analysis's window.", "additionalProperties": {
            "type": "object", "required": ["requests", "errors", "error_rate", "p95_ms", "mean_ms", "instances", "incidents", "weight_scale"],
            "properties": {
              "requests": {"type": "integer"}, "errors": {"type": "integer"}, "error_rate": {"type": "number"}, "p95_ms": {"type": "number"},
              "mean_ms": {"type": "number"}, "tenant_id": {"type": "string"},
              "weight_scale": {"type": "integer", "description": "The factor the optimiser's weights carry: decisions and dry_run_weight are configured weight × this."},
              "incidents": {"type": "object", "required": ["optimize", "self_heal"], "properties": {"optimize": {"type": "boolean"}, "self_heal": {"type": "boolean"}}},
              "instances": {"type": "object", "additionalProperties": {"type": "object", "required": ["requests", "errors", "p95_ms", "weight", "configured_weight"], "properties": {
                "requests": {"type": "integer"}, "errors": {"type": "integer"}, "p95_ms": {"type": ["number", "null"]},
                "weight": {"type": "integer"}, "configured_weight": {"type": "integer"}, "dry_run_weight": {"type": "integer"}}}}
            }}},
          "decisions": {"type": "array", "description": "The latest 200, newest first.", "items": {"$ref": "#/components/schemas/AutonomousDecision"}}
        }
      },
      "Metrics": {
        "type": "object",
        "required": ["total_requests", "requests_per_service", "ai_agent_executions", "autonomous_decisions", "average_response_time", "circuit_breaker_activations", "cached_responses", "tenant_distribution"],
        "properties": {
          "total_requests": {"type": "integer"}, "requests_per_service": {"type": "object", "additionalProperties": {"type": "integer"}},
          "ai_agent_executions": {"type": "integer"}, "autonomous_decisions": {"type": "integer"},
          "average_response_time": {"type": "number", "description": "Milliseconds."},
          "circuit_breaker_activations": {"type": "integer"}, "cached_responses": {"type": "integer"},
          "tenant_distribution": {"type": "object", "additionalProperties": {"type": "integer"}}
        }
      },
      "ServiceCall": {
        "type": "object", "required": ["service", "path"], "additionalProperties": false,
        "properties": {
          "service": {"type": "string", "pattern": "^(?!(api|health|metrics|graphql|ws|docs|dashboard)$)[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"},
          "method": {"enum": ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"], "default": "GET"},
          "path": {"type": "string", "pattern": "^/", "maxLength": 2048, "description": "The path at the service (after /{service}); values of {{ expressions }} are percent-encoded."},
          "body": {"description": "JSON; strings may be templates."},
          "headers": {"type": "object", "additionalProperties": {"type": "string"}}
        }
      },
      "WorkflowStep": {
        "type": "object", "required": ["id"], "additionalProperties": false,
        "description": "Exactly one of call, agent (with action) or integration.",
        "properties": {
          "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
          "call": {"$ref": "#/components/schemas/ServiceCall"},
          "agent": {"type": "string", "minLength": 1, "maxLength": 1024, "description": "An agent or integration name, or a template such as {{ input.integration }}."}, "action": {"type": "string"}, "with": {"description": "The agent's data (default {{ input }})."},
          "integration": {"type": "object", "required": ["name", "path"], "additionalProperties": false, "properties": {"name": {"type": "string"}, "method": {"type": "string"}, "path": {"type": "string"}, "body": {}}},
          "needs": {"type": "array", "items": {"type": "string"}},
          "when": {"type": "string", "description": "An expression; false skips the step."},
          "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 3600000, "default": 10000},
          "retry": {"type": "object", "additionalProperties": false, "properties": {"attempts": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1}, "backoff_ms": {"type": "integer", "minimum": 0, "maximum": 60000}, "max_backoff_ms": {"type": "integer", "minimum": 0, "maximum": 60000}}},
          "optional": {"type": "boolean"},
          "fallback": {"description": "The step's body when it fails after its retries."},
          "compensate": {"$ref": "#/components/schemas/ServiceCall"}
        }
      },
      "WorkflowInput": {
        "type": "object", "required": ["name", "steps"], "additionalProperties": false,
        "description": "A workflow definition. Checked whole when defined: step ids, needs (unknown ids, cycles), expressions and templates, the services it calls; each refusal is a 422 naming its field.",
        "properties": {
          "name": {"type": "string", "pattern": "^(?!(api|health|metrics|graphql|ws|docs|dashboard)$)[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"},
          "tenant_id": {"type": ["string", "null"], "format": "uuid"},
          "description": {"type": "string"},
          "expose": {"type": "object", "required": ["path"], "additionalProperties": false, "properties": {"method": {"enum": ["GET", "POST", "PUT", "DELETE", "PATCH"]}, "path": {"type": "string", "pattern": "^/api/brain/[A-Za-z0-9._/-]+$"}}},
          "roles": {"type": "array", "items": {"type": "string"}},
          "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 3600000, "default": 30000},
          "input": {"type": "object", "additionalProperties": false, "properties": {"required": {"type": "array", "items": {"type": "string"}}, "properties": {"type": "object", "additionalProperties": {"enum": ["string", "number", "integer", "boolean", "object", "array"]}}}},
          "steps": {"type": "array", "minItems": 1, "maxItems": 64, "items": {"$ref": "#/components/schemas/WorkflowStep"}},
          "response": {"type": "object", "additionalProperties": false, "properties": {"status": {"type": "integer", "minimum": 200, "maximum": 299}, "body": {}}}
        }
      },
      "Workflow": {"type": "object", "required": ["name", "steps", "version"], "properties": {"name": {"type": "string"}, "steps": {"type": "array"}, "version": {"type": "integer", "minimum": 1}}},
      "WorkflowList": {"type": "object", "required": ["workflows"], "properties": {"workflows": {"type": "array", "items": {"$ref": "#/components/schemas/Workflow"}}}},
      "RunStep": {
        "type": "object", "required": ["id", "state", "attempts", "status", "started_at", "finished_at", "duration_ms", "body", "error"],
        "properties": {
          "id": {"type": "string"}, "state": {"enum": ["pending", "running", "succeeded", "failed", "skipped", "fallback", "cancelled", "compensated"]},
          "attempts": {"type": "integer"}, "status": {"type": ["integer", "null"]}, "started_at": {"type": ["string", "null"]}, "finished_at": {"type": ["string", "null"]},
          "duration_ms": {"type": ["integer", "null"]}, "body": {}, "error": {"type": ["string", "null"]}
        }
      },
      "Run": {
        "type": "object", "required": ["id", "workflow", "tenant_id", "status", "started_at", "finished_at", "duration_ms", "input", "output", "error", "failed_step", "steps"],
        "properties": {
          "id": {"type": "string", "format": "uuid"}, "workflow": {"type": "string"}, "tenant_id": {"type": ["string", "null"]},
          "status": {"enum": ["running", "succeeded", "failed", "timed_out"]}, "started_at": {"type": "string"}, "finished_at": {"type": ["string", "null"]},
          "duration_ms": {"type": ["integer", "null"]}, "input": {}, "output": {}, "error": {"type": ["string", "null"]}, "failed_step": {"type": ["string", "null"]},
          "steps": {"type": "array", "items": {"$ref": "#/components/schemas/RunStep"}}
        }
      },
      "RunList": {"type": "object", "required": ["runs"], "properties": {"runs": {"type": "array", "items": {"type": "object", "required": ["id", "workflow", "status", "steps"]}}}},
      "RunAccepted": {"type": "object", "required": ["run_id", "status"], "properties": {"run_id": {"type": "string", "format": "uuid"}, "status": {"const": "running"}}},
      "Integration": {
        "type": "object", "required": ["name", "category", "tier", "credentials", "status"],
        "properties": {
          "name": {"type": "string"}, "category": {"type": "string"}, "tier": {"type": ["string", "null"], "description": "The agent crew tier the integration is in, if any."},
          "credentials": {"type": "array", "items": {"type": "string"}, "description": "The required credential fields (names only)."},
          "status": {"enum": ["inactive", "active", "needs_reauth"]},
          "fingerprint": {"type": "string", "pattern": "^sha256:[0-9a-f]{16}$", "description": "When active: identifies the stored credentials without revealing them."},
          "base_url": {"type": "string", "description": "When active: where proxied calls go."}
        }
      },
      "IntegrationList": {"type": "object", "required": ["integrations"], "properties": {"integrations": {"type": "array", "items": {"$ref": "#/components/schemas/Integration"}}}},
      "IntegrationActivation": {
        "type": "object", "required": ["credentials"], "additionalProperties": false,
        "properties": {
          "credentials": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Field name to value, e.g. {\"api_key\": \"sk_live_...\"}; every required field, no unknown one."},
          "base_url": {"type": "string", "description": "platform-admin only: send this tenant's calls to another base URL (a sandbox)."}
        }
      },
      "IntegrationActivated": {
        "type": "object", "required": ["name", "status", "credentials", "fingerprint"],
        "properties": {"name": {"type": "string"}, "status": {"const": "active"}, "credentials": {"type": "object", "additionalProperties": {"const": "set"}}, "fingerprint": {"type": "string"}}
      },
      "RunFailure": {
        "type": "object", "required": ["error", "detail", "request_id", "run_id", "failed_step", "steps"],
        "properties": {"error": {"enum": ["workflow_failed", "workflow_timeout"]}, "detail": {"type": "string"}, "request_id": {"type": "string"}, "run_id": {"type": "string"},
          "failed_step": {"type": ["string", "null"]}, "steps": {"type": "array", "items": {"$ref": "#/components/schemas/RunStep"}}}
      },
      "JWKS": {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array", "items": {"type": "object", "required": ["kty", "kid"]}}}}
    }
  },
  "security": [{"bearer": []}],
  "paths": {
    "/health": {"get": {"summary": "Every service's health, from the monitor's latest probes.", "security": [], "responses": {"200": {"description": "Health.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
    "/health/live": {"get": {"summary": "The process is up.", "security": [], "responses": {"200": {"description": "Alive.", "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"status": {"const": "alive"}}}}}}}}},
    "/health/ready": {"get": {"summary": "Configuration loaded and storage reachable.", "security": [], "responses": {
      "200": {"description": "Ready.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}},
      "503": {"description": "Not ready.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}}}}},
    "/.well-known/jwks.json": {"get": {"summary": "Public keys that verify X-Brain-Token.", "security": [], "responses": {"200": {"description": "JWKS.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JWKS"}}}}}}},
    "/openapi.json": {"get": {"summary": "This document.", "security": [], "responses": {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/docs": {"get": {"summary": "This document, readable.", "security": [], "responses": {"200": {"description": "HTML.", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
    "/api/brain/services": {
      "get": {"summary": "List services with their live status.", "parameters": [{"$ref": "#/components/parameters/Tenant"}], "responses": {
        "200": {"description": "Services (with X-Tenant-ID: that tenant's and the global ones; without: all).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceList"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "422": {"$ref": "#/components/responses/Invalid"}}},
      "post": {"summary": "Register a service.", "parameters": [{"$ref": "#/components/parameters/Tenant"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceInput"}}}},
        "responses": {
          "201": {"description": "Created.", "headers": {"ETag": {"schema": {"type": "string"}}, "Location": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Service"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"},
          "409": {"description": "The name is taken in this tenant.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "422": {"$ref": "#/components/responses/Invalid"}}}
    },
    "/api/brain/services/{name}": {
      "parameters": [{"$ref": "#/components/parameters/Name"}, {"$ref": "#/components/parameters/Tenant"}],
      "get": {"summary": "One service document.", "responses": {"200": {"$ref": "#/components/responses/Service"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"}, "422": {"$ref": "#/components/responses/Invalid"}}},
      "put": {"summary": "Replace a service.", "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServiceInput"}}}},
        "responses": {"200": {"$ref": "#/components/responses/Service"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}, "412": {"$ref": "#/components/responses/Stale"}, "422": {"$ref": "#/components/responses/Invalid"}}},
      "delete": {"summary": "Remove a service.", "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "responses": {"204": {"description": "Removed."}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}, "412": {"$ref": "#/components/responses/Stale"}, "422": {"$ref": "#/components/responses/Invalid"}}}
    },
    "/api/brain/services/{name}/routes": {
      "parameters": [{"$ref": "#/components/parameters/Name"}, {"$ref": "#/components/parameters/Tenant"}],
      "post": {"summary": "Add a route to a service.", "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Route"}}}},
        "responses": {"201": {"description": "The service with its new route.", "headers": {"ETag": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Service"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"},
          "409": {"description": "The service already has a route for an overlapping (path, method).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "412": {"$ref": "#/components/responses/Stale"}, "422": {"$ref": "#/components/responses/Invalid"}}}
    },
    "/api/brain/events": {"get": {"summary": "Stored domain events, oldest first.", "parameters": [
        {"name": "type", "in": "query", "schema": {"type": "string"}},
        {"name": "tenant_id", "in": "query", "schema": {"type": "string", "format": "uuid"}},
        {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}, "description": "Events after this id (without it: the newest `limit`)."},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
      "responses": {"200": {"description": "Events.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventList"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "422": {"$ref": "#/components/responses/Invalid"}}}},
    "/api/brain/events/stream": {"get": {"summary": "Domain events as Server-Sent Events (`id`, `event` = type, `data` = the Event object); an `event: token_expired` message ends the stream when the token expires.", "parameters": [
        {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}, "description": "Replay stored events after this id first."},
        {"name": "type", "in": "query", "schema": {"type": "string"}},
        {"name": "tenant_id", "in": "query", "schema": {"type": "string", "format": "uuid"}},
        {"name": "access_token", "in": "query", "schema": {"type": "string"}, "description": "For clients that cannot set headers; accepted on this endpoint only."}],
      "responses": {"200": {"description": "An endless event stream.", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "422": {"$ref": "#/components/responses/Invalid"}}}},
    "/graphql": {"post": {"summary": "GraphQL: queries `services`, `service(name:, tenant_id:)`, `health`, `events(type:, limit:, since:)`, `metrics` (any valid token; a non-admin sees its own tenant and global services only) and mutations `registerService(input: ServiceInput!)`, `registerRoute(service:, tenant_id:, input: RouteInput!)` (platform-admin). Errors inside the result carry `extensions.code` (`invalid_request` with `extensions.field`, `forbidden`, `conflict`, `not_found`; `query_too_large` over 32 KiB, `query_too_complex` beyond 32 nested brackets, 20 top-level fields or 250 fields, before anything runs).",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["query"], "properties": {
        "query": {"type": "string", "minLength": 1}, "variables": {"type": ["object", "null"]}, "operationName": {"type": ["string", "null"]}}}}}},
      "responses": {"200": {"description": "The GraphQL result.", "content": {"application/json": {"schema": {"type": "object", "properties": {
          "data": {"type": ["object", "null"]}, "errors": {"type": "array", "items": {"type": "object"}}}}}}},
        "400": {"description": "The body is not a GraphQL request.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}}}},
    "/ws/events": {"get": {"summary": "Domain events over a WebSocket (RFC 6455): one JSON text frame (an Event object) per new event, a ping every 15 s, close 1001 when the gateway stops, close 1008 (reason `token expired`) when the token expires. Needs `Upgrade: websocket`, `Connection: Upgrade`, `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key`.", "parameters": [
        {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}, "description": "Replay stored events after this id first; otherwise nothing old is sent."},
        {"name": "type", "in": "query", "schema": {"type": "string"}},
        {"name": "tenant_id", "in": "query", "schema": {"type": "string", "format": "uuid"}},
        {"name": "access_token", "in": "query", "schema": {"type": "string"}, "description": "For browsers, which cannot set headers on a WebSocket."}],
      "responses": {"101": {"description": "Switched to WebSocket; frames follow."},
        "400": {"description": "Invalid `Sec-WebSocket-Key`.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "426": {"description": "Not a WebSocket handshake, or a version other than 13.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "422": {"$ref": "#/components/responses/Invalid"}}}},
    "/api/brain/health": {"get": {"summary": "Every service and instance with status, response time, failures and breaker state.", "parameters": [{"$ref": "#/components/parameters/Tenant"}],
      "responses": {"200": {"description": "Detailed health.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DetailedHealth"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "422": {"$ref": "#/components/responses/Invalid"}}}},
    "/api/brain/metrics": {"get": {"summary": "The metrics summary: totals, per service and tenant, agent executions, autonomous decisions, mean response time, breaker activations, cache hits.",
      "responses": {"200": {"description": "Metrics.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Metrics"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}}}},
    "/api/brain/workflows": {
      "get": {"summary": "List workflow definitions (with X-Tenant-ID: that tenant's and the global ones).", "parameters": [{"$ref": "#/components/parameters/Tenant"}], "responses": {
        "200": {"description": "Workflows.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WorkflowList"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "422": {"$ref": "#/components/responses/Invalid"}}},
      "post": {"summary": "Define a workflow.", "parameters": [{"$ref": "#/components/parameters/Tenant"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WorkflowInput"}}}},
        "responses": {
          "201": {"description": "Created.", "headers": {"ETag": {"schema": {"type": "string"}}, "Location": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Workflow"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"},
          "409": {"description": "The name is taken in this tenant.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "413": {"description": "The document is over 1 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "422": {"$ref": "#/components/responses/Invalid"}}}
    },
    "/api/brain/workflows/{name}": {
      "parameters": [{"$ref": "#/components/parameters/WorkflowName"}, {"$ref": "#/components/parameters/Tenant"}],
      "get": {"summary": "One workflow definition.", "responses": {"200": {"description": "The workflow.", "headers": {"ETag": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Workflow"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"}, "422": {"$ref": "#/components/responses/Invalid"}}},
      "put": {"summary": "Replace a workflow definition.", "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WorkflowInput"}}}},
        "responses": {"200": {"description": "The workflow.", "headers": {"ETag": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Workflow"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"},
          "412": {"$ref": "#/components/responses/Stale"}, "413": {"description": "The document is over 1 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "422": {"$ref": "#/components/responses/Invalid"}}},
      "delete": {"summary": "Remove a workflow definition (its stored runs stay).", "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
        "responses": {"204": {"description": "Removed."}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}, "412": {"$ref": "#/components/responses/Stale"}, "422": {"$ref": "#/components/responses/Invalid"}}}
    },
    "/api/brain/workflows/{name}/runs": {
      "parameters": [{"$ref": "#/components/parameters/WorkflowName"}, {"$ref": "#/components/parameters/Tenant"},
        {"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"}, "description": "Remembered 24 h per (tenant, workflow): the same body again replays the stored answer (Idempotent-Replayed: true), another body is 422 idempotency_key_reused, while the first runs 409 run_in_progress."},
        {"name": "Prefer", "in": "header", "required": false, "schema": {"type": "string"}, "description": "respond-async: answer 202 at once with Location."}],
      "post": {"summary": "Run a workflow (any valid token whose roles the workflow allows) as the caller; the body is its input. Also reachable at the workflow's expose alias.",
        "requestBody": {"required": false, "content": {"application/json": {"schema": {}}}},
        "responses": {
          "200": {"description": "The run succeeded: the workflow's response (default {run_id, status, output}).", "headers": {"X-Brain-Run-ID": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {}}}},
          "202": {"description": "Started (Prefer: respond-async).", "headers": {"Location": {"schema": {"type": "string"}}, "X-Brain-Run-ID": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RunAccepted"}}}},
          "400": {"description": "X-Tenant-ID is not a UUID.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"description": "The caller lacks the workflow's roles, or names another tenant without platform-admin.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "404": {"description": "No such workflow (workflow_not_found).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "409": {"description": "The run started with this Idempotency-Key is still running.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "413": {"description": "The input is over 1 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "422": {"$ref": "#/components/responses/Invalid"},
          "502": {"description": "A required step failed (workflow_failed), after compensation.", "headers": {"X-Brain-Run-ID": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RunFailure"}}}},
          "504": {"description": "The run's deadline passed (workflow_timeout), after compensation.", "headers": {"X-Brain-Run-ID": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RunFailure"}}}}}}
    },
    "/api/brain/runs": {"get": {"summary": "Runs, newest first: the caller's tenant's (platform-admin without X-Tenant-ID: every tenant's).", "parameters": [
        {"$ref": "#/components/parameters/Tenant"},
        {"name": "workflow", "in": "query", "schema": {"type": "string", "pattern": "^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"}},
        {"name": "status", "in": "query", "schema": {"enum": ["running", "succeeded", "failed", "timed_out"]}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}],
      "responses": {"200": {"description": "Runs (steps without bodies).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RunList"}}}},
        "400": {"description": "X-Tenant-ID is not a UUID.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "422": {"$ref": "#/components/responses/Invalid"}}}},
    "/api/brain/runs/{id}": {"get": {"summary": "One run with its steps (another tenant's: 404).", "parameters": [{"$ref": "#/components/parameters/RunID"}, {"$ref": "#/components/parameters/Tenant"}],
      "responses": {"200": {"description": "The run.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}}},
        "400": {"description": "X-Tenant-ID is not a UUID.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/api/brain/integrations": {"get": {"summary": "The catalogue with the tenant's status per integration (roles platform-admin, any tenant via X-Tenant-ID, or tenant-admin).", "parameters": [{"$ref": "#/components/parameters/Tenant"}],
      "responses": {"200": {"description": "Every integration.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IntegrationList"}}}},
        "400": {"description": "X-Tenant-ID is not a UUID.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}}}},
    "/api/brain/integrations/{name}": {
      "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}, "description": "An integration of the catalogue."}, {"$ref": "#/components/parameters/Tenant"}],
      "get": {"summary": "One integration with the tenant's status (and fingerprint when active).",
        "responses": {"200": {"description": "The integration.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Integration"}}}},
          "400": {"description": "X-Tenant-ID is not a UUID.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"description": "No such integration in the catalogue.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"description": "secrets_unavailable: no secret store, or it cannot be read.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}},
      "put": {"summary": "Store the tenant's credentials, verified live against the provider first when the entry has a verify request. Values are never shown again.",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IntegrationActivation"}}}},
        "responses": {"200": {"description": "Stored; event IntegrationActivated.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IntegrationActivated"}}}},
          "400": {"description": "X-Tenant-ID is not a UUID.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"description": "No such integration in the catalogue.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "413": {"description": "The body is over 1 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "422": {"description": "A missing or unknown field (field: credentials.<name>), or invalid_credentials (the provider refused them); nothing stored.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "502": {"description": "The provider could not be reached to verify them; nothing stored.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"description": "secrets_unavailable: no secret store, or it cannot be read.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}},
      "delete": {"summary": "Erase the tenant's credentials; event IntegrationDeactivated.",
        "responses": {"204": {"description": "Erased (also when none were stored)."},
          "400": {"description": "X-Tenant-ID is not a UUID.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"description": "No such integration in the catalogue.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "503": {"description": "secrets_unavailable: no secret store, or it cannot be read.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}
    },
    "/api/brain/integrations/{name}/proxy/{path}": {
      "parameters": [
        {"name": "name", "in": "path", "required": true, "schema": {"type": "string"}, "description": "An integration the tenant has activated."},
        {"name": "path", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_~-]{1,64}$"}, "description": "The provider path after the base URL; it may hold several segments (an OpenAPI path parameter cannot show that). Dot segments and encoded slashes are refused with 400. The query string is passed on."},
        {"$ref": "#/components/parameters/Tenant"}],
      "get": {"summary": "Call the provider with the tenant's stored credentials (roles platform-admin, tenant-admin or integrations).", "responses": {"400": {"description": "X-Tenant-ID is not a UUID, or the provider path has '.'/'..' segments, encoded slashes or non-printable bytes.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"description": "No valid token, or (integration_needs_reauth) the provider refused to refresh the OAuth token.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"description": "No such integration in the catalogue.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "409": {"description": "integration_inactive: the tenant has no credentials for it.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "413": {"description": "The request body is over 8 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "429": {"description": "The limit per tenant and integration is exhausted.", "headers": {"Retry-After": {"schema": {"type": "string"}}, "RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "502": {"description": "The provider could not be reached.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "503": {"description": "secrets_unavailable, or the provider's breaker is open (Retry-After).", "headers": {"Retry-After": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "504": {"description": "The provider did not answer in time.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "default": {"description": "The provider's own status, headers and body, relayed (with RateLimit-* fields).", "headers": {"RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"*/*": {"schema": {}}}}}},
      "post": {"summary": "Call the provider with the tenant's stored credentials (roles platform-admin, tenant-admin or integrations).", "requestBody": {"required": false, "content": {"*/*": {"schema": {}}}}, "responses": {"400": {"description": "X-Tenant-ID is not a UUID, or the provider path has '.'/'..' segments, encoded slashes or non-printable bytes.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"description": "No valid token, or (integration_needs_reauth) the provider refused to refresh the OAuth token.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"description": "No such integration in the catalogue.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "409": {"description": "integration_inactive: the tenant has no credentials for it.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "413": {"description": "The request body is over 8 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "429": {"description": "The limit per tenant and integration is exhausted.", "headers": {"Retry-After": {"schema": {"type": "string"}}, "RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "502": {"description": "The provider could not be reached.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "503": {"description": "secrets_unavailable, or the provider's breaker is open (Retry-After).", "headers": {"Retry-After": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "504": {"description": "The provider did not answer in time.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "default": {"description": "The provider's own status, headers and body, relayed (with RateLimit-* fields).", "headers": {"RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"*/*": {"schema": {}}}}}},
      "put": {"summary": "Call the provider with the tenant's stored credentials (roles platform-admin, tenant-admin or integrations).", "requestBody": {"required": false, "content": {"*/*": {"schema": {}}}}, "responses": {"400": {"description": "X-Tenant-ID is not a UUID, or the provider path has '.'/'..' segments, encoded slashes or non-printable bytes.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"description": "No valid token, or (integration_needs_reauth) the provider refused to refresh the OAuth token.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"description": "No such integration in the catalogue.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "409": {"description": "integration_inactive: the tenant has no credentials for it.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "413": {"description": "The request body is over 8 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "429": {"description": "The limit per tenant and integration is exhausted.", "headers": {"Retry-After": {"schema": {"type": "string"}}, "RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "502": {"description": "The provider could not be reached.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "503": {"description": "secrets_unavailable, or the provider's breaker is open (Retry-After).", "headers": {"Retry-After": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "504": {"description": "The provider did not answer in time.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "default": {"description": "The provider's own status, headers and body, relayed (with RateLimit-* fields).", "headers": {"RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"*/*": {"schema": {}}}}}},
      "patch": {"summary": "Call the provider with the tenant's stored credentials (roles platform-admin, tenant-admin or integrations).", "requestBody": {"required": false, "content": {"*/*": {"schema": {}}}}, "responses": {"400": {"description": "X-Tenant-ID is not a UUID, or the provider path has '.'/'..' segments, encoded slashes or non-printable bytes.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"description": "No valid token, or (integration_needs_reauth) the provider refused to refresh the OAuth token.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"description": "No such integration in the catalogue.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "409": {"description": "integration_inactive: the tenant has no credentials for it.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "413": {"description": "The request body is over 8 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "429": {"description": "The limit per tenant and integration is exhausted.", "headers": {"Retry-After": {"schema": {"type": "string"}}, "RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "502": {"description": "The provider could not be reached.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "503": {"description": "secrets_unavailable, or the provider's breaker is open (Retry-After).", "headers": {"Retry-After": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "504": {"description": "The provider did not answer in time.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "default": {"description": "The provider's own status, headers and body, relayed (with RateLimit-* fields).", "headers": {"RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"*/*": {"schema": {}}}}}},
      "delete": {"summary": "Call the provider with the tenant's stored credentials (roles platform-admin, tenant-admin or integrations).", "responses": {"400": {"description": "X-Tenant-ID is not a UUID, or the provider path has '.'/'..' segments, encoded slashes or non-printable bytes.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"description": "No valid token, or (integration_needs_reauth) the provider refused to refresh the OAuth token.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"description": "No such integration in the catalogue.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "409": {"description": "integration_inactive: the tenant has no credentials for it.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "413": {"description": "The request body is over 8 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "429": {"description": "The limit per tenant and integration is exhausted.", "headers": {"Retry-After": {"schema": {"type": "string"}}, "RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "502": {"description": "The provider could not be reached.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "503": {"description": "secrets_unavailable, or the provider's breaker is open (Retry-After).", "headers": {"Retry-After": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "504": {"description": "The provider did not answer in time.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "default": {"description": "The provider's own status, headers and body, relayed (with RateLimit-* fields).", "headers": {"RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"*/*": {"schema": {}}}}}},
      "head": {"summary": "Call the provider with the tenant's stored credentials (roles platform-admin, tenant-admin or integrations).", "responses": {"400": {"description": "X-Tenant-ID is not a UUID, or the provider path has '.'/'..' segments, encoded slashes or non-printable bytes.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"description": "No valid token, or (integration_needs_reauth) the provider refused to refresh the OAuth token.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"description": "No such integration in the catalogue.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "409": {"description": "integration_inactive: the tenant has no credentials for it.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "413": {"description": "The request body is over 8 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "429": {"description": "The limit per tenant and integration is exhausted.", "headers": {"Retry-After": {"schema": {"type": "string"}}, "RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "502": {"description": "The provider could not be reached.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "503": {"description": "secrets_unavailable, or the provider's breaker is open (Retry-After).", "headers": {"Retry-After": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "504": {"description": "The provider did not answer in time.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "default": {"description": "The provider's own status, headers and body, relayed (with RateLimit-* fields).", "headers": {"RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"*/*": {"schema": {}}}}}},
      "options": {"summary": "Call the provider with the tenant's stored credentials (roles platform-admin, tenant-admin or integrations).", "responses": {"400": {"description": "X-Tenant-ID is not a UUID, or the provider path has '.'/'..' segments, encoded slashes or non-printable bytes.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "401": {"description": "No valid token, or (integration_needs_reauth) the provider refused to refresh the OAuth token.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"description": "No such integration in the catalogue.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "409": {"description": "integration_inactive: the tenant has no credentials for it.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "413": {"description": "The request body is over 8 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "429": {"description": "The limit per tenant and integration is exhausted.", "headers": {"Retry-After": {"schema": {"type": "string"}}, "RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "502": {"description": "The provider could not be reached.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "503": {"description": "secrets_unavailable, or the provider's breaker is open (Retry-After).", "headers": {"Retry-After": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "504": {"description": "The provider did not answer in time.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}, "default": {"description": "The provider's own status, headers and body, relayed (with RateLimit-* fields).", "headers": {"RateLimit-Limit": {"schema": {"type": "string"}}, "RateLimit-Remaining": {"schema": {"type": "string"}}, "RateLimit-Reset": {"schema": {"type": "string"}}}, "content": {"*/*": {"schema": {}}}}}}
    },
    "/api/brain/optimizer": {"get": {"summary": "The autonomous optimiser (platform-admin): mode, paused, each service's latest window and open incidents, the recent decisions.",
      "responses": {"200": {"description": "The optimiser.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Optimiser"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}}}},
    "/api/brain/optimizer/pause": {"post": {"summary": "Stop the periodic analyses (platform-admin); optimize-platform still runs one on request.",
      "responses": {"200": {"description": "The optimiser, paused.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Optimiser"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}}}},
    "/api/brain/optimizer/resume": {"post": {"summary": "Resume the periodic analyses (platform-admin).",
      "responses": {"200": {"description": "The optimiser, running.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Optimiser"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}}}},
    "/api/brain/optimize-platform": {"post": {"summary": "Run one analysis of every service now (platform-admin), acting as the mode says; answers its decisions.",
      "responses": {"200": {"description": "The decisions of this analysis (often none).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DecisionList"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"},
        "409": {"description": "The optimiser is off (optimizer.mode: off).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
    "/api/brain/agents": {"get": {"summary": "The crew tiers and the agents service's catalogue (fetched as the caller, kept 60 s; when it cannot be read, agents is empty and catalog_error says why).", "parameters": [{"$ref": "#/components/parameters/Tenant"}],
      "responses": {"200": {"description": "Tiers and agents.", "content": {"application/json": {"schema": {"type": "object", "required": ["tiers", "agents"], "properties": {
          "tiers": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}, "agents": {"type": "array"}, "catalog_error": {"type": "string"}}}}}},
        "400": {"description": "X-Tenant-ID is not a UUID.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}}}},
    "/api/brain/agents/{name}/{action}": {
      "parameters": [
        {"name": "name", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,62}$"}, "description": "An integration in a tier (that crew) or an agent's name (one agent)."},
        {"name": "action", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"}},
        {"$ref": "#/components/parameters/Tenant"},
        {"name": "Prefer", "in": "header", "required": false, "schema": {"type": "string"}, "description": "respond-async: 202 with the run's Location."}],
      "post": {"summary": "Run an agent (or an integration's crew) on the agents service as the caller (any valid token); the body is its data. A one-step run, visible at /api/brain/runs/{id}.",
        "requestBody": {"required": false, "content": {"application/json": {"schema": {}}}},
        "responses": {
          "202": {"description": "Started (Prefer: respond-async).", "headers": {"Location": {"schema": {"type": "string"}}, "X-Brain-Run-ID": {"schema": {"type": "string"}}, "X-Brain-Agent-Pattern": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RunAccepted"}}}},
          "400": {"description": "X-Tenant-ID is not a UUID.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"description": "The data is over 1 MiB.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "422": {"$ref": "#/components/responses/Invalid"},
          "502": {"description": "The agents service could not be reached.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "504": {"description": "The agents service did not answer within agents.timeout_ms.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "default": {"description": "The agents service's own status and JSON body, relayed (or the gateway's refusal of the call: 404 when the agents service is not registered, 429, 503).", "headers": {"X-Brain-Run-ID": {"schema": {"type": "string"}}, "X-Brain-Agent-Pattern": {"schema": {"enum": ["four_agent", "three_agent", "two_agent", "single_agent"]}}}, "content": {"application/json": {"schema": {}}}}}}
    }
  }
}
"""#
}
