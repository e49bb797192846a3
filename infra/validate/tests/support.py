"""Copies of the repository's deployment files, broken on purpose, and the checks run on them."""
import copy
import functools
import os
import re
import shutil
import tempfile
import unittest
import warnings

import yaml

from ecg_validate.problems import collect
from ecg_validate.settings import Settings, bin_dir, load_reports

# The checks read files with open(path).read(), which CPython closes at once; unittest would warn.
warnings.simplefilter("ignore", ResourceWarning)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


@functools.lru_cache(maxsize=1)
def reports():
    return load_reports(bin_dir(ROOT))


def settings(edit=None):
    """The services' print-settings reports; edit(reports) may change a copy."""
    data = copy.deepcopy(reports())
    if edit:
        edit(data)
    return Settings(data)


def at(*parts):
    return os.path.join(ROOT, *parts)


class BrokenCopies(unittest.TestCase):
    """A temporary directory per test; helpers write edited copies of repository files into it."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ecg-validate-test.")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def edited(self, relative, edit, name=None):
        """A copy of ROOT/relative with edit(text) -> text applied; its path."""
        text = open(at(relative)).read()
        changed = edit(text)
        self.assertNotEqual(changed, text, f"the edit of {relative} changed nothing")
        path = os.path.join(self.dir, name or os.path.basename(relative))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(changed)
        return path

    def replaced(self, relative, old, new, name=None, regex=False):
        def edit(text):
            if regex:
                return re.sub(old, new, text, flags=re.M)
            self.assertIn(old, text)
            return text.replace(old, new)
        return self.edited(relative, edit, name)

    def compose_copy(self, mutate):
        """compose/ copied (nginx, postgres, .env.example) with mutate(doc) applied to docker-compose.yml;
        entries of the repository are linked beside it so that relative mounts resolve."""
        base = os.path.join(self.dir, "repo")
        os.makedirs(base)
        for entry in os.listdir(ROOT):
            if entry != "compose":
                os.symlink(at(entry), os.path.join(base, entry))
        shutil.copytree(at("compose"), os.path.join(base, "compose"), symlinks=True)
        path = os.path.join(base, "compose", "docker-compose.yml")
        doc = yaml.safe_load(open(path))
        mutate(doc)
        yaml.safe_dump(doc, open(path, "w"), sort_keys=False)
        return path

    def aws_copy(self, edits):
        """infra/aws copied, with {file: edit(text) -> text} applied."""
        directory = os.path.join(self.dir, "aws")
        shutil.copytree(at("infra", "aws"), directory)
        for name, edit in edits.items():
            path = os.path.join(directory, name)
            text = open(path).read()
            changed = edit(text)
            self.assertNotEqual(changed, text, f"the edit of {name} changed nothing")
            open(path, "w").write(changed)
        return directory

    def assertPasses(self, check, *args):
        self.assertEqual(collect(check, *args), [])

    def assertRejects(self, pattern, check, *args):
        """check(*args) reports a problem matching pattern (a regex)."""
        found = collect(check, *args)
        self.assertTrue(found, "the check accepted a broken file")
        self.assertTrue(any(re.search(pattern, p) for p in found), f"rejected, but not for /{pattern}/: {found}")
