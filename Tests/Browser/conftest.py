"""Fixtures for the web page's browser tests: the real tooltool-server on 127.0.0.1 port 0 with a temp root, tokens
made by its `token create` command, and headless Chromium (Debian's chromium + chromium-driver) driven by Selenium.

The binaries come from $TOOLTOOL_BIN (scripts/test sets it to `swift build --show-bin-path`). With CI=true a missing
browser or binary fails the run instead of skipping it.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCREENSHOTS = os.path.join(REPO, "docs", "ui")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what):
    """Fails in CI, skips elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: the browser tests must run)")
    pytest.skip(what)


def bin_dir():
    if os.environ.get("TOOLTOOL_BIN"):
        return os.environ["TOOLTOOL_BIN"]
    return subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()


class Server:
    """A running `tooltool-server serve` and helpers to talk to it over HTTP."""

    def __init__(self, binaries):
        self.binary = os.path.join(binaries, "tooltool-server")
        self.client = os.path.join(binaries, "tooltool")
        self.root = tempfile.mkdtemp(prefix="tooltool-browser-")
        self.log = open(os.path.join(self.root, "server-stderr.log"), "wb")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--root", self.root, "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.monotonic() + 20
        line = b""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith(b"listening on http://") or not line:
                break
        if not line.startswith(b"listening on http://"):
            self.stop()
            raise RuntimeError(f"the server did not start: {line!r}")
        self.url = line.decode().split(" ", 2)[2].strip()

    def token(self, user, *permissions):
        """A new token from the offline `token create` command."""
        arguments = [self.binary, "token", "create", "--root", self.root, "--user", user]
        for permission in permissions:
            arguments += ["--permission", permission]
        return subprocess.run(arguments, capture_output=True, text=True, check=True).stdout.strip()

    def request(self, method, path, token=None, body=None, data=None):
        """(status, bytes, headers) of one request."""
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers

    def json(self, method, path, token=None, body=None):
        status, content, _ = self.request(method, path, token, body)
        assert status == 200, f"{method} {path}: {status} {content!r}"
        return json.loads(content)["result"]

    def upload(self, token, message, files):
        """The tooltool flow over HTTP: batch, PUTs, complete. `files` maps name -> (bytes, visibility)."""
        import hashlib
        entries = {name: {"size": len(data), "digest": hashlib.sha512(data).hexdigest(), "algorithm": "sha512",
                          "visibility": visibility} for name, (data, visibility) in files.items()}
        batch = self.json("POST", "/upload", token, {"message": message, "files": entries})
        for name, entry in batch["files"].items():
            if "put_url" in entry:
                path = "/" + entry["put_url"].split("/", 3)[3]
                status, content, _ = self.request("PUT", path, data=files[name][0])
                assert status == 200, content
        return batch

    def blob_path(self, digest, folder):
        return os.path.join(self.root, folder, "sha512", digest)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def server():
    binaries = bin_dir()
    if not os.path.exists(os.path.join(binaries, "tooltool-server")):
        missing(f"no tooltool-server in {binaries}; run swift build")
    running = Server(binaries)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("selenium is not installed (scripts/install-deps installs it)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        missing("chromium and chromedriver are not installed (scripts/install-deps installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1440,1000", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    downloads = tempfile.mkdtemp(prefix="tooltool-browser-downloads-")
    options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.downloads = downloads
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(downloads, ignore_errors=True)


@pytest.fixture
def page(browser, server):
    """The browser on a fresh session of this test's server."""
    from pages import Page
    browser.set_window_size(1440, 1000)
    browser.get(server.url + "/ui/")
    browser.execute_script("sessionStorage.clear()")
    browser.get_log("browser")  # drop what earlier tests logged
    yield Page(browser, server)


def screenshot(driver, name):
    """Saves docs/ui/NAME.png when TOOLTOOL_UPDATE_SCREENSHOTS=1."""
    if os.environ.get("TOOLTOOL_UPDATE_SCREENSHOTS") == "1":
        os.makedirs(SCREENSHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SCREENSHOTS, name + ".png"))
