"""Checks real HTTP responses against docs/gateway.openapi.yaml: the
operation's response for that status must be documented, with the same
content type, every header the document marks as required present, and the
body valid against the response schema (OpenAPI 3.1 schemas are JSON Schema
2020-12; python3-jsonschema validates them).

    from openapi_check import OpenApi
    api = OpenApi("docs/gateway.openapi.yaml")
    api.check("POST", "/orders", status, headers, body)   # raises AssertionError
"""
import json
import re

import jsonschema
import yaml


class OpenApi:
    def __init__(self, path):
        with open(path) as f:
            self.doc = yaml.safe_load(f)
        # One schema document holding every component, so "$ref"s resolve.
        text = json.dumps(self.doc["components"]).replace("#/components/", "#/")
        self.root = json.loads(text)
        self.paths = []
        for template, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            self.paths.append((re.compile(pattern), template, item))

    # Headers the tests hold the gateway to on every response that documents them.
    ALWAYS = {"Location", "Idempotency-Key-Retention", "Retry-After", "WWW-Authenticate",
              "Allow"}

    def _resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/components/"), "unexpected $ref %s" % ref
            node = self.root
            for part in ref[len("#/components/"):].split("/"):
                node = node[part]
        return node

    def operation(self, method, path):
        """(template, operation); operation None for a method the path does
        not have; (None, None) for a path the document does not have."""
        path = path.split("?", 1)[0]
        for pattern, template, item in self.paths:
            if pattern.match(path):
                return template, item.get(method.lower())
        return None, None

    # What the document cannot list per operation: an unknown path is a 404
    # and an unknown method a 405 (with Allow), both problem details.
    UNDOCUMENTED = {404: {"$ref": "#/components/responses/Problem"},
                    405: {"$ref": "#/components/responses/MethodNotAllowed"}}

    def check(self, method, path, status, headers, body):
        """headers: a mapping with case-insensitive lookups (http.client's
        HTTPMessage) or a dict with lower-case names; body: bytes."""
        template, op = self.operation(method, path)
        if op is None:
            want = 404 if template is None else 405
            assert status == want, "%s %s: not in the document, answered %d (expected %d)" % (
                method, path, status, want)
            op = {"responses": {str(want): self.UNDOCUMENTED[want]}}
            template = template or path
        responses = op["responses"]
        spec = responses.get(str(status)) or responses.get("default")
        assert spec is not None, "%s %s answered %d, which the document does not list" % (
            method, template, status)
        spec = self._resolve(spec)
        where = "%s %s %d" % (method, template, status)

        def header(name):
            if hasattr(headers, "get_all"):
                return headers.get(name)
            return headers.get(name.lower())

        for name, h in spec.get("headers", {}).items():
            h = self._resolve(h)
            if h.get("required", name in self.ALWAYS):
                assert header(name) is not None, "%s: header %s missing" % (where, name)
        content = spec.get("content")
        if not content:
            return
        ctype = (header("Content-Type") or "").split(";")[0].strip()
        assert ctype in content, "%s: Content-Type %r, the document says %s" % (
            where, ctype, sorted(content))
        schema = content[ctype].get("schema")
        if schema is None:
            return
        if ctype.endswith("json"):
            instance = json.loads(body)
        else:
            instance = body.decode()
        full = dict(self.root)
        full.update(self._resolve(schema) if "$ref" not in schema else {"$ref": schema["$ref"].replace(
            "#/components/", "#/")})
        try:
            jsonschema.Draft202012Validator(full, format_checker=None).validate(instance)
        except jsonschema.ValidationError as e:
            raise AssertionError("%s: body does not match the document: %s (body %s)" % (
                where, e.message, body[:300])) from None
