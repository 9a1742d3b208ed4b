"""Write deploy/k8s/monitoring/prometheus-rule.yaml from deploy/prometheus/samen-alerts.yaml.

The rules file is the one source of Samen's alert rules; on Kubernetes the Prometheus Operator reads
them as a PrometheusRule, whose `spec` is that file's content. Run after changing the rules:

    python3 deploy/prometheus/to_prometheusrule.py

tests/test_alerting.py fails when the PrometheusRule is not what this script writes. The rules are
copied as text, indented, so their comments stay with them.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
RULES = HERE / "samen-alerts.yaml"
TARGET = HERE.parent / "k8s" / "monitoring" / "prometheus-rule.yaml"

HEADER = """\
# Samen's alert rules for the Prometheus Operator. GENERATED from deploy/prometheus/samen-alerts.yaml by
# deploy/prometheus/to_prometheusrule.py: change that file and run the script, never this one.
# What each alert means and what to do: docs/operations.md, section "Alerts".
# Your Prometheus picks up the PrometheusRules its `ruleSelector` matches (kube-prometheus-stack: the
# label `release: <its release name>`); add that label here through your kustomization if it needs one.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: samen
  labels:
    app.kubernetes.io/name: samen
    app.kubernetes.io/component: monitoring
spec:
"""


def prometheus_rule(rules_text: str) -> str:
    """The PrometheusRule manifest whose spec is the rules file (its own header comment left out)."""
    lines = rules_text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("groups:"))
    body = "".join(f"  {line}\n" if line else "\n" for line in lines[start:])
    return HEADER + body


def main() -> None:
    TARGET.write_text(prometheus_rule(RULES.read_text("utf-8")), "utf-8")
    print(f"wrote {TARGET.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
