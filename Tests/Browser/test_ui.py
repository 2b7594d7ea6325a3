"""The web page end to end: the real tooltool-server, headless Chromium, a user's clicks; results checked in the
page, over HTTP and on disk."""
import hashlib
import os
import subprocess
import tempfile

from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from conftest import screenshot

ALL = ("download.public", "download.internal", "upload.public", "upload.internal", "manage")
XSS = "<img src=x onerror=alert(1)>"


def script_problems(page):
    """CSP violations and uncaught script errors the browser logged."""
    return [e["message"] for e in page.errors()
            if "Content Security Policy" in e["message"] or "Uncaught" in e["message"]]


def test_bad_token_is_refused_with_the_servers_words(page):
    page.go("/")
    field = page.wait(EC.element_to_be_clickable((By.ID, "token")))
    field.send_keys("0" * 64)
    page.button("Sign in").click()
    page.wait_text("unknown or revoked")
    assert "401 Unauthorized" in page.main_text()
    assert page.driver.execute_script("return sessionStorage.getItem('tooltool.token')") is None


def test_sign_in_by_keyboard_shows_who_and_signs_out(page):
    server = page.server
    admin = server.token("admin@example.com", *ALL)
    server.upload(admin, "first batch", {"a.bin": (b"a" * 3000, "public")})
    page.go("/")
    field = page.wait(EC.element_to_be_clickable((By.ID, "token")))
    field.send_keys(admin + Keys.ENTER)  # keyboard only: type, Enter
    page.wait_text("admin@example.com", "who")
    who = page.driver.find_element(By.ID, "who").text
    assert "manage" in who and "download.internal" in who
    page.wait_text("Heartbeat: ok")
    page.wait_text("first batch")
    files = page.driver.find_element(By.XPATH, '//caption[text()="Stored files"]/..').text
    assert "public 1 3.0 kB" in files and "internal 0 0 bytes" in files
    assert page.driver.execute_script("return sessionStorage.getItem('tooltool.token')") == admin
    assert page.driver.execute_script("return document.cookie") == ""
    screenshot(page.driver, "overview")
    page.button("Sign out").click()
    page.wait(EC.element_to_be_clickable((By.ID, "token")))
    assert page.driver.execute_script("return sessionStorage.getItem('tooltool.token')") is None
    assert page.driver.find_element(By.ID, "who").text == ""
    assert script_problems(page) == []


def test_browse_pages_beyond_the_newest(page):
    server = page.server
    admin = server.token("admin", *ALL)
    for n in range(1, 26):
        server.json("POST", "/upload", admin, {"message": f"build number {n}", "files": {
            f"f{n}.bin": {"size": 1, "digest": hashlib.sha512(str(n).encode()).hexdigest(), "algorithm": "sha512",
                          "visibility": "public"}}})
    page.sign_in(admin)
    page.link("Batches").click()
    page.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "ol.batches > li")) == 20)
    items = page.driver.find_elements(By.CSS_SELECTOR, "ol.batches > li")
    assert len(items) == 20
    assert "build number 6" in items[-1].text
    page.link("Older batches").click()
    page.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "ol.batches > li")) == 5)
    items = page.driver.find_elements(By.CSS_SELECTOR, "ol.batches > li")
    assert [i.find_element(By.CLASS_NAME, "batch-link").text for i in items] == [f"Batch {n}" for n in range(5, 0, -1)]
    assert page.driver.find_elements(By.XPATH, '//a[text()="Older batches"]') == []


def test_search_finds_by_filename_digest_author_and_message(page):
    server = page.server
    alice = server.token("alice@example.com", "upload.public", "download.public")
    bob = server.token("bob@example.com", "upload.public", "download.public")
    clang = b"clang bytes" * 100
    server.upload(alice, "Bug 1234 - clang 17 for linux64", {"clang-17.tar.xz": (clang, "public")})
    server.upload(bob, "rust nightly", {"rustc.tar.zst": (b"rust" * 50, "public")})
    page.sign_in(alice)
    for text, expect, absent in [("clang-17", "clang-17.tar.xz", "rust nightly"),
                                 (hashlib.sha512(clang).hexdigest()[:20], "Files (1)", "rust nightly"),
                                 ("bob@example", "rust nightly", "Bug 1234"),
                                 ("linux64", "Bug 1234 - clang 17 for linux64", "rustc")]:
        search = page.labelled("Search")
        search.clear()
        search.send_keys(text + Keys.ENTER)
        page.wait(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), text))
        page.wait_text(expect)
        assert absent not in page.main_text(), text
    screenshot(page.driver, "search")


def test_batch_page_lists_files_and_the_manifest(page):
    server = page.server
    admin = server.token("admin", *ALL)
    one, two = os.urandom(2000), os.urandom(3000)
    batch = server.upload(admin, "two tools", {"one.bin": (one, "public"), "two.bin": (two, "internal")})
    page.sign_in(admin)
    page.open(f"/batch/{batch['id']}", f"Batch {batch['id']}")
    rows = page.driver.find_elements(By.CSS_SELECTOR, "table tbody tr")
    assert [r.text.split("\n")[0] for r in rows] == ["one.bin 2.0 kB public Download", "two.bin 3.0 kB internal Download"]
    status, manifest, _ = server.request("GET", f"/upload/{batch['id']}/manifest", admin)
    assert status == 200
    assert page.driver.find_element(By.ID, "manifest").text == manifest.decode().strip()
    link = page.driver.find_element(By.CSS_SELECTOR, 'a[aria-label="Download one.bin"]')
    assert link.get_attribute("href") == f"{server.url}/sha512/{hashlib.sha512(one).hexdigest()}"
    page.button("Download two.bin")  # internal: a button that fetches with the token
    page.button("Copy manifest")
    page.button("Download manifest")
    screenshot(page.driver, "batch")


def test_visibility_switch_with_confirmation(page):
    server = page.server
    admin = server.token("admin", *ALL)
    data = os.urandom(5000)
    digest = hashlib.sha512(data).hexdigest()
    server.upload(admin, "a public tool", {"tool.tar.gz": (data, "public")})
    page.sign_in(admin)
    page.open(f"/file/{digest}", "tool.tar.gz")
    assert page.driver.find_element(By.ID, "file-digest").text == digest
    assert page.driver.find_element(By.ID, "file-visibility").text == "public"
    assert "5000 bytes" in page.main_text() and "yes (has_instances)" in page.main_text()
    screenshot(page.driver, "file")

    # Cancel changes nothing.
    page.button("Make internal").click()
    dialog = page.confirm_dialog()
    assert "tool.tar.gz" in dialog.text
    screenshot(page.driver, "confirm")
    dialog.find_element(By.XPATH, './/button[text()="Cancel"]').click()
    assert os.path.exists(server.blob_path(digest, "public"))
    assert server.request("GET", f"/sha512/{digest}")[0] == 200

    page.button("Make internal").click()
    page.confirm_dialog().find_element(By.XPATH, './/button[text()="Make internal"]').click()
    page.wait_text("now internal", "action-result")
    assert page.driver.find_element(By.ID, "file-visibility").text == "internal"
    assert not os.path.exists(server.blob_path(digest, "public"))
    with open(server.blob_path(digest, "pvt"), "rb") as blob:
        assert blob.read() == data
    assert server.request("GET", f"/sha512/{digest}")[0] == 401
    status, content, _ = server.request("GET", f"/sha512/{digest}", admin)
    assert status == 200 and content == data
    assert server.json("GET", f"/file/sha512/{digest}", admin)["visibility"] == "internal"

    page.button("Make public").click()
    page.confirm_dialog().find_element(By.XPATH, './/button[text()="Make public"]').click()
    page.wait_text("now public", "action-result")
    assert os.path.exists(server.blob_path(digest, "public")) and not os.path.exists(server.blob_path(digest, "pvt"))
    assert server.request("GET", f"/sha512/{digest}")[0] == 200


def test_delete_instances(page):
    server = page.server
    admin = server.token("admin", *ALL)
    data = os.urandom(1500)
    digest = hashlib.sha512(data).hexdigest()
    server.upload(admin, "to be deleted", {"old.bin": (data, "public")})
    page.sign_in(admin)
    page.open(f"/file/{digest}", "old.bin")
    page.button("Delete instances").click()
    dialog = page.confirm_dialog()
    assert "old.bin" in dialog.text
    dialog.find_element(By.XPATH, './/button[text()="Delete instances"]').click()
    page.wait_text("no stored instance", "action-result")
    assert page.driver.find_element(By.ID, "file-stored").text == "no (no instances)"
    assert not os.path.exists(server.blob_path(digest, "public"))
    assert server.request("GET", f"/sha512/{digest}")[0] == 404
    file = server.json("GET", f"/file/sha512/{digest}", admin)
    assert file["has_instances"] is False and file["batches"][0]["filename"] == "old.bin"


def test_tokens_create_and_revoke(page):
    server = page.server
    admin = server.token("admin", "manage")
    page.sign_in(admin)
    page.link("Tokens").click()
    page.labelled("User").send_keys("ci-bot")
    page.driver.find_element(By.ID, "perm-upload.public").click()
    page.driver.find_element(By.ID, "perm-download.internal").click()
    page.button("Create token").click()
    secret_field = page.wait(EC.visibility_of_element_located((By.ID, "new-token")))
    secret = secret_field.get_attribute("value")
    assert len(secret) == 64
    page.button("Copy token")
    assert server.json("GET", "/auth/whoami", secret) == {"id": 2, "user": "ci-bot",
                                                           "permissions": ["download.internal", "upload.public"]}
    rows = page.driver.find_elements(By.CSS_SELECTOR, "table tbody tr")
    assert "ci-bot download.internal, upload.public" in rows[1].text
    assert secret not in page.driver.find_element(By.TAG_NAME, "table").text
    screenshot(page.driver, "tokens")

    page.button("Revoke token 2 of ci-bot").click()
    dialog = page.confirm_dialog()
    assert "ci-bot" in dialog.text
    dialog.find_element(By.XPATH, './/button[text()="Revoke"]').click()
    page.wait(EC.invisibility_of_element_located((By.XPATH, '//button[@aria-label="Revoke token 2 of ci-bot"]')))
    assert server.request("GET", "/auth/whoami", secret)[0] == 401
    assert server.json("GET", "/tokens", admin)[1]["revoked"] is not None
    # The secret is never shown again.
    page.driver.refresh()
    page.wait_text("ci-bot")
    assert secret not in page.driver.page_source


def test_upload_two_files_then_fetch_them_with_tooltool(page):
    server = page.server
    uploader = server.token("uploader@example.com", "upload.public", "upload.internal", "download.internal")
    folder = tempfile.mkdtemp(prefix="tooltool-browser-files-")
    contents = {"sdk.zip": os.urandom(300_000), "clang.tar.xz": os.urandom(1_200_000)}
    for name, data in contents.items():
        with open(os.path.join(folder, name), "wb") as out:
            out.write(data)
    page.sign_in(uploader)
    page.link("Upload").click()
    page.labelled("Files").send_keys("\n".join(os.path.join(folder, name) for name in contents))
    page.labelled("Message").send_keys("Bug 99 - SDK and clang from the web page")
    page.labelled("Visibility").send_keys("public")
    page.button("Upload").click()
    try:
        page.wait_text("uploaded.", "upload-done")
    except Exception:
        page.driver.save_screenshot("/tmp/webui-upload-fail.png")
        raise AssertionError(f"no upload-done; the page says: {page.main_text()}; log: {page.errors()}")
    bars = page.driver.find_elements(By.TAG_NAME, "progress")
    assert [b.get_attribute("value") for b in bars] == ["1", "1"]
    manifest = page.driver.find_element(By.ID, "upload-manifest").text
    screenshot(page.driver, "upload")
    for name, data in contents.items():
        status, content, _ = server.request("GET", f"/sha512/{hashlib.sha512(data).hexdigest()}")
        assert status == 200 and content == data, name

    # The manifest the page showed drives the real client.
    work = tempfile.mkdtemp(prefix="tooltool-browser-fetch-")
    with open(os.path.join(work, "manifest.tt"), "w") as out:
        out.write(manifest)
    fetched = subprocess.run([server.client, "fetch", "--url", server.url, "-m", "manifest.tt"], cwd=work,
                             capture_output=True, text=True, timeout=60)
    assert fetched.returncode == 0, fetched.stderr
    for name, data in contents.items():
        with open(os.path.join(work, name), "rb") as got:
            assert got.read() == data, name
    batches = server.json("GET", "/upload", uploader)
    assert batches[0]["author"] == "uploader@example.com"
    assert set(batches[0]["files"]) == set(contents)


def test_script_in_user_text_is_shown_as_text(page):
    server = page.server
    evil = server.token(XSS, *ALL)
    data = os.urandom(100)
    digest = hashlib.sha512(data).hexdigest()
    batch = server.upload(evil, f"Bug 1 {XSS}", {"x.bin": (data, "public")})
    page.sign_in(evil)
    for route, heading in [("/", "Overview"), ("/batches", "Batches"), (f"/batch/{batch['id']}", "Batch"),
                           (f"/file/{digest}", "x.bin"), ("/search?q=onerror", "Search"), ("/tokens", "Tokens")]:
        page.open(route, heading)
        page.wait_text(XSS)
        assert page.driver.find_elements(By.CSS_SELECTOR, "main img, header img") == [], route
        try:
            page.driver.switch_to.alert
            raise AssertionError(f"an alert opened on {route}")
        except NoAlertPresentException:
            pass
    assert XSS in page.driver.find_element(By.ID, "who").text
    assert script_problems(page) == []


def test_without_manage_the_actions_are_refused(page):
    server = page.server
    admin = server.token("admin", *ALL)
    reader = server.token("reader", "download.public", "upload.public")
    data = os.urandom(100)
    digest = hashlib.sha512(data).hexdigest()
    server.upload(admin, "public file", {"p.bin": (data, "public")})
    server.upload(admin, "secret file", {"s.bin": (os.urandom(100), "internal")})
    page.sign_in(reader)
    assert page.driver.find_elements(By.XPATH, '//nav//a[text()="Tokens"]') == []
    page.link("Batches").click()
    page.wait(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "Batches"))
    page.wait_text("public file")
    assert "secret file" not in page.main_text()
    page.open(f"/file/{digest}", "p.bin")
    page.wait_text("needs a token with the manage permission")
    assert page.driver.find_elements(By.XPATH, '//button[text()="Make internal"]') == []
    page.open("/tokens", "Tokens")
    page.wait_text("403 Forbidden: this token lacks the manage permission")
    screenshot(page.driver, "forbidden")


def test_narrow_screen_has_no_sideways_scroll(page):
    server = page.server
    admin = server.token("release-engineer@example.com", *ALL)
    data = os.urandom(100)
    digest = hashlib.sha512(data).hexdigest()
    server.upload(admin, "Bug 5 - a long message that has to wrap on a phone screen without pushing the page sideways",
                  {"a-rather-long-file-name-for-a-toolchain-archive.tar.xz": (data, "public")})
    page.driver.set_window_size(375, 800)
    page.sign_in(admin)
    for route, heading in [("/", "Overview"), (f"/file/{digest}", "a-rather"), ("/batch/1", "Batch 1"),
                           ("/upload", "Upload"), ("/tokens", "Tokens")]:
        page.open(route, heading)
        width = page.driver.execute_script("return document.documentElement.clientWidth")
        scroll = page.driver.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"{route}: {scroll} > {width}"
        if route.startswith("/file"):
            page.button("Make internal")  # reachable at this width
            screenshot(page.driver, "phone-file")


def test_a_switch_during_an_upload_shows_the_409(page):
    import socket
    import time
    server = page.server
    admin = server.token("admin", *ALL)
    data = os.urandom(200_000)
    digest = hashlib.sha512(data).hexdigest()
    server.json("POST", "/upload", admin, {"message": "slow upload", "files": {"slow.bin": {
        "size": len(data), "digest": digest, "algorithm": "sha512", "visibility": "public"}}})
    page.sign_in(admin)
    page.open(f"/file/{digest}", "slow.bin")

    # A PUT that has sent its head and part of its body, and then waits.
    host, port = server.url.replace("http://", "").split(":")
    upload = socket.create_connection((host, int(port)), timeout=30)
    try:
        upload.sendall((f"PUT /sha512/{digest}?visibility=public HTTP/1.1\r\nHost: {host}:{port}\r\n"
                        f"Authorization: Bearer {admin}\r\nContent-Length: {len(data)}\r\n\r\n").encode() + data[:1000])
        deadline = time.monotonic() + 10
        while server.request("GET", f"/upload/complete/sha512/{digest}", admin)[0] != 409:
            assert time.monotonic() < deadline, "the PUT never showed as in flight"
            time.sleep(0.05)
        page.button("Make internal").click()
        page.confirm_dialog().find_element(By.XPATH, './/button[text()="Make internal"]').click()
        page.wait_text("409 UploadInProgress: an upload of", "action-problem")
        assert page.driver.find_element(By.ID, "file-visibility").text == "public"

        upload.sendall(data[1000:])
        assert upload.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        upload.close()
    assert os.path.exists(server.blob_path(digest, "public"))
    page.button("Make internal").click()
    page.confirm_dialog().find_element(By.XPATH, './/button[text()="Make internal"]').click()
    page.wait_text("now internal", "action-result")
    assert os.path.exists(server.blob_path(digest, "pvt"))


def test_a_token_revoked_mid_session_signs_the_page_out(page):
    server = page.server
    admin = server.token("admin", "manage")
    short_lived = server.token("contractor", "download.public")
    page.sign_in(short_lived)
    tokens = server.json("GET", "/tokens", admin)
    contractor = next(t for t in tokens if t["user"] == "contractor")
    assert server.request("DELETE", f"/tokens/{contractor['id']}", admin)[0] == 200
    page.link("Batches").click()
    page.wait_text("the token is unknown or revoked", "signin-notice")
    assert page.driver.find_element(By.ID, "token").is_displayed()
    assert page.driver.execute_script("return sessionStorage.getItem('tooltool.token')") is None
    assert page.driver.find_element(By.ID, "who").text == ""
    # Late answers of the old view do not cover the form.
    page.driver.implicitly_wait(0)
    import time
    time.sleep(1)
    assert page.driver.find_element(By.ID, "signin-notice").is_displayed()


def test_keyboard_only_switch_with_escape_and_enter(page):
    server = page.server
    admin = server.token("admin", *ALL)
    data = os.urandom(700)
    digest = hashlib.sha512(data).hexdigest()
    server.upload(admin, "keyboard", {"keys.bin": (data, "public")})
    page.sign_in(admin)
    page.open(f"/file/{digest}", "keys.bin")
    active = lambda: page.driver.switch_to.active_element

    page.button("Make internal").send_keys(Keys.ENTER)
    page.confirm_dialog()
    assert active().text == "Cancel"  # the safe choice has the focus
    active().send_keys(Keys.ESCAPE)
    page.wait(EC.invisibility_of_element_located((By.CSS_SELECTOR, "dialog")))
    assert os.path.exists(server.blob_path(digest, "public"))

    page.button("Make internal").send_keys(Keys.ENTER)
    page.confirm_dialog()
    active().send_keys(Keys.TAB)
    assert active().text == "Make internal"
    active().send_keys(Keys.ENTER)
    page.wait_text("now internal", "action-result")
    assert os.path.exists(server.blob_path(digest, "pvt")) and not os.path.exists(server.blob_path(digest, "public"))


def test_every_control_has_an_accessible_name(page):
    server = page.server
    admin = server.token("admin", *ALL)
    data = os.urandom(300)
    digest = hashlib.sha512(data).hexdigest()
    batch = server.upload(admin, "names", {"named.bin": (data, "public"), "hidden.bin": (os.urandom(9), "internal")})
    page.go("/")
    page.wait(EC.element_to_be_clickable((By.ID, "token")))
    assert page.driver.find_element(By.ID, "token").accessible_name == "Token"
    page.sign_in(admin)
    assert page.labelled("Search").accessible_name == "Search"
    for route, heading in [("/", "Overview"), ("/batches", "Batches"), (f"/batch/{batch['id']}", "Batch"),
                           (f"/file/{digest}", "named.bin"), ("/search?q=named", "Search"), ("/upload", "Upload"),
                           ("/tokens", "Tokens")]:
        page.open(route, heading)
        controls = page.driver.find_elements(By.CSS_SELECTOR, "button, a[href], input, select, textarea")
        assert controls, route
        for control in controls:
            if control.is_displayed():
                assert control.accessible_name.strip(), f"{route}: {control.get_attribute('outerHTML')[:120]}"
    page.open(f"/file/{digest}", "named.bin")
    for name in ["Make internal", "Delete instances"]:
        assert page.button(name).accessible_name == name
    assert page.driver.find_element(By.CSS_SELECTOR, "a[download]").accessible_name == "Download named.bin"


def test_downloads_of_public_and_internal_files_and_the_manifest(page):
    import time
    server = page.server
    admin = server.token("admin", *ALL)
    public, internal = os.urandom(4000), os.urandom(6000)
    batch = server.upload(admin, "downloads", {"pub.bin": (public, "public"), "int.bin": (internal, "internal")})
    folder = page.driver.downloads
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    page.sign_in(admin)
    page.open(f"/batch/{batch['id']}", "Batch")

    def downloaded(name, timeout=15):
        path = os.path.join(folder, name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path) and not os.path.exists(path + ".crdownload"):
                with open(path, "rb") as got:
                    content = got.read()
                if content:
                    return content
            time.sleep(0.1)
        raise AssertionError(f"{name} was not downloaded; the folder holds {os.listdir(folder)}")

    page.driver.find_element(By.CSS_SELECTOR, 'a[aria-label="Download pub.bin"]').click()
    assert downloaded("pub.bin") == public
    page.button("Download int.bin").click()  # fetched with the token, saved from memory
    assert downloaded("int.bin") == internal
    page.button("Download manifest").click()
    status, manifest, _ = server.request("GET", f"/upload/{batch['id']}/manifest", admin)
    assert downloaded("manifest.tt") == manifest
