#!/usr/bin/python3
"""Parses a Prometheus text exposition (0.0.4) with the reference Python client's parser
(Debian python3-prometheus-client) and prints it as JSON for the e2e tests:
{"families": {"<name>": "<type>"}, "samples": [{"name": ..., "labels": {...}, "value": ...}]}.
Exits 1 with the parser's error when the text does not parse."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    families, samples = {}, []
    try:
        for family in text_string_to_metric_families(text):
            families[family.name] = family.type
            for s in family.samples:
                value = s.value
                if math.isnan(value) or math.isinf(value):
                    value = str(value)
                samples.append({"name": s.name, "labels": dict(s.labels), "value": value})
    except Exception as e:  # the parser's error, for the test's message
        print("does not parse: %s" % e, file=sys.stderr)
        return 1
    json.dump({"families": families, "samples": samples}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
