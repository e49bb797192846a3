"""Reading CloudFormation templates: the short-form tags, and the names a value refers to."""
import re

import yaml


class CfnLoader(yaml.SafeLoader):
    pass


def _cfn_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {("Fn::" + suffix) if suffix != "Condition" else "Condition": value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_cfn(path):
    return yaml.load(open(path), Loader=CfnLoader)


def names_in(node):
    """Every Ref / ImportValue name / GetAtt resource inside a CloudFormation value."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::ImportValue":
                sub = value.get("Fn::Sub") if isinstance(value, dict) else value
                found.add(re.sub(r"^\$\{\w+\}-", "", sub if isinstance(sub, str) else str(sub)))
                continue
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                template = value[0] if isinstance(value, list) else value
                variables = value[1] if isinstance(value, list) and len(value) > 1 else {}
                for ref in re.findall(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z0-9.]+)?\}", template):
                    if ref not in variables:
                        found.add(ref)
                found |= names_in(variables)
                continue
            found |= names_in(value)
    elif isinstance(node, list):
        for value in node:
            found |= names_in(value)
    return {name for name in found if not name.startswith("AWS::")}


def entries(node):
    """Environment/Secrets lists, with Fn::If entries flattened (both branches)."""
    out = []
    for item in node or []:
        if isinstance(item, dict) and "Fn::If" in item:
            out += [b for b in item["Fn::If"][1:] if isinstance(b, dict) and "Name" in b]
        elif isinstance(item, dict):
            out.append(item)
    return out


def statements(role):
    for policy in role["Properties"].get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            yield st


