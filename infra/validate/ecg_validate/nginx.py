"""compose/nginx: `nginx -t` on a copy (container hostnames mapped to 127.0.0.1), and the local stack
including the same routes.conf."""
import os
import re
import shutil
import tempfile

from .problems import problem
from .tools import run


def nginx_available():
    return shutil.which("nginx") is not None


def nginx_test(source):
    """source holds nginx.conf, routes.conf and upstreams.conf as in compose/nginx."""
    with tempfile.TemporaryDirectory(prefix="ecg-validate-nginx.") as t:
        shutil.copy(os.path.join(source, "routes.conf"), os.path.join(t, "routes.conf"))
        upstreams = open(os.path.join(source, "upstreams.conf")).read()
        open(os.path.join(t, "upstreams.conf"), "w").write(
            re.sub(r"server\s+[a-z-]+-service:", "server 127.0.0.1:", upstreams))
        conf = open(os.path.join(source, "nginx.conf")).read().replace("/etc/nginx/ecg/", t + "/")
        conf = re.sub(r"(?m)^pid .*$", f"pid {t}/nginx.pid;", conf)
        temp_paths = " ".join(f"{kind}_temp_path {t}/{kind.split('_')[0]};"
                              for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = re.sub(r"(?m)^http \{", "http {\n    " + temp_paths, conf, count=1)
        open(os.path.join(t, "nginx.conf"), "w").write(conf)
        for name in ("routes.conf", "upstreams.conf"):
            if f"include {t}/{name};" not in conf:
                problem(f"nginx.conf does not include /etc/nginx/ecg/{name}")
                return
        status, output = run(["nginx", "-t", "-q", "-p", t + "/", "-e", "stderr", "-c", os.path.join(t, "nginx.conf")])
        if status != 0:
            for line in output.strip().splitlines():
                problem(line)


def same_routes_as_local_stack(stack_sh):
    if "include $ECG_ROOT/compose/nginx/routes.conf;" not in open(stack_sh).read():
        problem(f"{stack_sh} no longer includes compose/nginx/routes.conf")
