"""The Dockerfile: each check rejects a copy broken in one way."""
from ecg_validate import dockerfile, tools

from tests.support import BrokenCopies, at


class DockerfileTests(BrokenCopies):
    def check(self, path):
        return dockerfile.check_dockerfile, path, at(".dockerignore")

    def test_unbroken_copy_passes(self):
        self.assertPasses(*self.check(at("Dockerfile")))

    def test_running_as_root(self):
        self.assertRejects("non-root USER", *self.check(self.replaced("Dockerfile", r"^USER .*\n", "", regex=True)))

    def test_without_the_static_stdlib(self):
        self.assertRejects("static Swift stdlib", *self.check(self.replaced("Dockerfile", " --static-swift-stdlib", "")))

    def test_ffmpeg_for_analysis_service(self):
        path = self.replaced("Dockerfile", r'^( *analysis-service\) port=8083; extra="curl)"', r'\1 ffmpeg"', regex=True)
        self.assertRejects("analysis-service: runtime installs ffmpeg", *self.check(path))

    def test_worker_without_its_speech_model(self):
        path = self.replaced("Dockerfile", ' pocketsphinx-en-us"', '"')
        self.assertRejects("caption-worker: runtime stage does not install pocketsphinx-en-us", *self.check(path))

    def test_worker_given_a_subcommand(self):
        path = self.replaced("Dockerfile", r"^CMD \[\]$", 'CMD ["worker"]', regex=True)
        self.assertRejects("caption-worker: CMD must be", *self.check(path))

    def test_hadolint(self):
        path = self.replaced("Dockerfile", r"^USER (.*)$", r"USER \1\nRUN cd /tmp && apt-get install curl", regex=True)
        self.assertRejects("DL3003|DL3008|DL3009|DL3015", tools.hadolint, path)
