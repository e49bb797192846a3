"""routes.conf evaluated against SPEC.md section 3, and the ALB listener rules of services.yaml against routes.conf."""
import fnmatch
import json
import re

from .cfn import load_cfn
from .problems import problem


def nginx_tokens(text):
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        elif c in "{};":
            tokens.append(c)
            i += 1
        elif c in "'\"":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            tokens.append(text[i + 1:j])
            i = j + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in "{};":
                j += 1
            tokens.append(text[i:j])
            i = j
    return tokens


def nginx_blocks(tokens, pos=0):
    """[(args, children or None)] of one block level."""
    items, words = [], []
    while pos < len(tokens):
        t = tokens[pos]
        pos += 1
        if t == ";":
            items.append((words, None))
            words = []
        elif t == "{":
            children, pos = nginx_blocks(tokens, pos)
            items.append((words, children))
            words = []
        elif t == "}":
            return items, pos
        else:
            words.append(t)
    return items, pos


UPSTREAM_SERVICE = {"auth_service": "auth", "media_service": "media", "analysis_service": "analysis"}


def nginx_locations(routes_conf):
    """Flattened [(modifier, path, action)] of routes.conf; action: 'auth', 'auth:/health', '404', ..."""
    items, _ = nginx_blocks(nginx_tokens(open(routes_conf).read()))
    found = []

    def action_of(children):
        for words, sub in children:
            if sub is None and words and words[0] == "proxy_pass":
                m = re.fullmatch(r"http://(\w+)(/.*)?", words[1])
                service = UPSTREAM_SERVICE.get(m.group(1), "?" + m.group(1)) if m else "?"
                return service + (":" + m.group(2) if m and m.group(2) else "")
            if sub is None and words and words[0] == "return":
                return words[1]
        return None

    def walk(level, internal):
        for words, children in level:
            if children is None or not words or words[0] != "location":
                continue
            modifier, path = (words[1], words[2]) if len(words) == 3 else ("", words[1])
            is_internal = internal or any(w == ["internal"] for w, s in children if s is None)
            found.append((modifier, path, "404" if is_internal else (action_of(children) or "404")))
            walk(children, is_internal)

    walk(items, False)
    return found


def nginx_route(locations, path):
    for modifier, loc, action in locations:
        if modifier == "=" and loc == path:
            return action
    best = None
    for modifier, loc, action in locations:
        if modifier in ("", "^~") and path.startswith(loc) and (best is None or len(loc) > len(best[0])):
            best = (loc, action)
    return best[1] if best else "404"


def fixed_404(action):
    cfg = action.get("FixedResponseConfig") or {}
    body = cfg.get("MessageBody", "")
    try:
        body_ok = json.loads(body) == {"detail": "Not Found", "code": "not_found"}
    except ValueError:
        body_ok = False
    if cfg.get("StatusCode") != "404" or cfg.get("ContentType") != "application/json" or not body_ok:
        problem(f"fixed response {cfg} is not the gateway's JSON 404")
    return "404"


def alb_rules(template):
    resources = template["Resources"]
    target_groups = {}
    for name, res in resources.items():
        if res["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup":
            port = res["Properties"].get("Port")
            service = {8081: "auth", 8082: "media", 8083: "analysis"}.get(port)
            target_groups[name] = service
    rules = []
    for name, res in resources.items():
        if res["Type"] != "AWS::ElasticLoadBalancingV2::ListenerRule":
            continue
        props = res["Properties"]
        patterns = []
        for cond in props.get("Conditions", []):
            if cond.get("Field") != "path-pattern":
                problem(f"{name}: only path-pattern conditions mirror the gateway ({cond.get('Field')})")
                continue
            patterns += (cond.get("PathPatternConfig") or {}).get("Values") or cond.get("Values") or []
        rewrite = None
        for transform in props.get("Transforms") or []:
            for rw in ((transform.get("UrlRewriteConfig") or {}).get("Rewrites") or []):
                rewrite = (rw["Regex"], rw["Replace"])
        actions = props.get("Actions", [])
        if len(actions) != 1:
            problem(f"{name}: one action expected")
            continue
        action = actions[0]
        if action.get("Type") == "forward":
            tg = (action.get("TargetGroupArn") or {}).get("Ref")
            result = target_groups.get(tg) or f"?{tg}"
        elif action.get("Type") == "fixed-response":
            result = fixed_404(action)
        else:
            result = f"?{action.get('Type')}"
        rules.append((int(props["Priority"]), name, patterns, rewrite, result))
    rules.sort()
    for name, res in resources.items():
        if res["Type"] == "AWS::ElasticLoadBalancingV2::Listener":
            for action in res["Properties"].get("DefaultActions", []):
                if isinstance(action, dict) and "Fn::If" in action:
                    for branch in action["Fn::If"][1:]:
                        if branch.get("Type") == "fixed-response":
                            fixed_404(branch)
                elif action.get("Type") == "fixed-response":
                    fixed_404(action)
    return rules


def alb_route(rules, path):
    for _, _, patterns, rewrite, result in rules:
        if any(fnmatch.fnmatchcase(path, p) for p in patterns):
            if rewrite and result != "404":
                new = re.sub(rewrite[0], rewrite[1], path)
                return result if new == path else f"{result}:{new}"
            return result
    return "404"


# SPEC.md §3 "Gateway routing", as outcomes for concrete paths.
SPEC_ROUTES = {
    "/api/auth/signup": "auth", "/api/auth/login": "auth", "/api/auth/me": "auth", "/api/auth/refresh": "auth",
    "/api/auth/logout": "auth", "/api/auth/google/login": "auth", "/api/auth/google/callback": "auth",
    "/.well-known/jwks.json": "auth", "/": "auth", "/health": "auth", "/api/test": "auth",
    "/api/upload-video/generate-url": "media", "/api/upload-video/complete": "media",
    "/api/upload-video/videos": "media", "/api/upload-video/download-url/uploads%2Fa%2Fb.mp4": "media",
    "/api/upload-video/download-url/uploads/a/b.mp4": "media",
    "/api/v1/ml/process-video": "analysis", "/api/v1/ml/job-status/42": "analysis",
    "/api/v1/ml/job-status/42/stream": "analysis", "/api/v1/ml/jobs": "analysis",
    "/health/auth": "auth:/health", "/health/media": "media:/health", "/health/analysis": "analysis:/health",
    "/internal": "404", "/internal/": "404", "/internal/videos/uploads%2Fa": "404",
    "/metrics": "404", "/metrics/": "404", "/metricsx": "404",
}
# Further paths where the ALB must answer exactly like nginx (not fixed by SPEC's table).
EXTRA_PROBES = ["/ready", "/openapi.json", "/nope", "/api", "/api/", "/api/auth", "/api/authx", "/api/upload-video",
                "/api/v1/ml", "/api/v1/mlx", "/api/v1/other", "/api/v2/ml/jobs", "/health/", "/health/authx",
                "/health/x", "/api/test/", "/api/testx", "/.well-known/other", "/internalx", "/_gw/error/404",
                "/API/AUTH/login", "/Health", "/index.html"]


def check_routes(routes_conf, services_yaml):
    locations = nginx_locations(routes_conf)
    for path, expected in SPEC_ROUTES.items():
        got = nginx_route(locations, path)
        if got != expected:
            problem(f"routes.conf sends {path} to {got}; SPEC.md §3 says {expected}")
    rules = alb_rules(load_cfn(services_yaml))
    for path in list(SPEC_ROUTES) + EXTRA_PROBES:
        gateway, alb = nginx_route(locations, path), alb_route(rules, path)
        if gateway != alb:
            problem(f"{path}: gateway (routes.conf) -> {gateway}, ALB listener rules -> {alb}")
    # The default action answers 404 too; explicit deny rules keep /internal and /metrics
    # closed even if a wider forward rule is added later.
    denied = [p for _, _, patterns, _, result in rules if result == "404" for p in patterns]
    for must in ("/internal", "/internal/videos/x", "/metrics", "/metrics/x", "/metricsx"):
        if not any(fnmatch.fnmatchcase(must, p) for p in denied):
            problem(f"no ALB rule denies {must} explicitly")


