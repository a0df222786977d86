"""tools/wire_check_rest.py — the wire check's validate.py, with the body
members of rest-json and rest-xml inputs that have no payload member decoded
and checked (API Gateway v2, Lambda, Route 53, ECS's REST calls). The stock
validator only notes that such a body exists, so every required body member
reads as missing. Same command line as validate.py; WIRE_CHECK names its
folder (default ../shared/tools/wire-check beside this checkout).

Two services share a signing name with an older one (API Gateway v2 signs as
apigateway, ELBv2 as elasticloadbalancing), and the validator picks a model by
signing name: give it --data-dir with the newer models under the older names
(docs/modules.md, "The wire")."""
import os
import sys
import types

here = os.path.dirname(os.path.abspath(__file__))
folder = os.environ.get("WIRE_CHECK", os.path.join(here, "..", "..", "shared", "tools", "wire-check"))
path = os.path.join(folder, "validate.py")
src = open(path).read()
old = """            if not body_members:
                r("ERROR", f"{len(req.body)}-byte body, but {name} takes none")
"""
new = """            if not body_members:
                r("ERROR", f"{len(req.body)}-byte body, but {name} takes none")
            elif protocol_of(model) == "rest-json":
                try:
                    doc = json.loads(req.body)
                except ValueError as e:
                    r("ERROR", f"body is not JSON: {e}")
                    doc = None
                if isinstance(doc, dict):
                    by_wire = {m.serialization.get("name", n): (n, m) for n, m in body_members.items()}
                    for k, v in doc.items():
                        if k not in by_wire:
                            r("ERROR", f"body member {k!r} matches no member of {name}")
                            continue
                        n, m = by_wire[k]
                        bad = []
                        params[n] = json_decode(v, m, n, bad)
                        for p, msg in bad:
                            r("ERROR", f"{p}: {msg}")
            else:
                try:
                    root = ET.fromstring(req.body)
                except ET.ParseError as e:
                    r("ERROR", f"body is not XML: {e}")
                    root = None
                if root is not None:
                    want = shape.serialization.get("name", shape.name)
                    if xml_local(root.tag) != want:
                        r("ERROR", f"XML root <{xml_local(root.tag)}>, model wants <{want}>")
                    bad = []
                    dec = xml_decode(root, shape, name, bad)
                    if isinstance(dec, dict):
                        params.update({k: v for k, v in dec.items() if k in body_members})
                    for p, msg in bad:
                        r("ERROR", f"{p}: {msg}")
"""
assert old in src
src = src.replace(old, new)
if "import json" not in src:
    src = "import json\n" + src
mod = types.ModuleType("validate_rest")
mod.__file__ = path
sys.modules["validate_rest"] = mod
code = compile(src.replace('if __name__ == "__main__":', 'if True:'), mod.__file__, "exec")
exec(code, mod.__dict__)
