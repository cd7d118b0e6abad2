"""Prints action.yml's composite steps as a workflow, so actionlint (which checks workflows, not
action metadata) checks them too: expression syntax and contexts, the `with:` of every action
used and its runtime, and shellcheck over every `run:` script. The action's inputs become
`workflow_call` inputs so `inputs.*` resolves; line numbers refer to the printed workflow.

Usage: python action-as-workflow.py action.yml > action-as-workflow.yml (run by .ci/run).
"""

import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as f:
    action = yaml.safe_load(f)
assert action["runs"]["using"] == "composite", "only composite actions are converted"

workflow = {
    "name": f"{action['name']} (action.yml as a workflow, for actionlint)",
    "on": {
        "workflow_call": {
            "inputs": {
                name: {
                    "description": spec.get("description", ""),
                    "type": "string",
                    "required": False,
                }
                for name, spec in action.get("inputs", {}).items()
            }
        }
    },
    "jobs": {
        "action": {
            "runs-on": "ubuntu-latest",
            # GITHUB_ACTION_PATH is set by the runner for actions only.
            "env": {"GITHUB_ACTION_PATH": "."},
            "steps": action["runs"]["steps"],
        }
    },
}
yaml.safe_dump(workflow, sys.stdout, sort_keys=False, width=1000)
