"""What a user does on the page, in Selenium terms: find controls by their accessible names and wait for answers."""
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 15


class Page:
    def __init__(self, driver, server):
        self.driver = driver
        self.server = server

    def wait(self, condition, timeout=WAIT):
        return WebDriverWait(self.driver, timeout).until(condition)

    def labelled(self, label):
        """The form control whose <label> (or aria-label) is exactly `label`, once it is there."""
        def find(driver):
            found = driver.find_elements(By.XPATH, f'//label[normalize-space()="{label}"]')
            if found and found[0].get_attribute("for"):
                return driver.find_elements(By.ID, found[0].get_attribute("for"))[0]
            named = driver.find_elements(By.CSS_SELECTOR, f'[aria-label="{label}"]')
            return named[0] if named else False
        return self.wait(find)

    def button(self, name):
        """The visible button whose text or aria-label is `name`, once it is there."""
        xpath = f'//button[normalize-space()="{name}" or @aria-label="{name}"]'
        return self.wait(EC.element_to_be_clickable((By.XPATH, xpath)))

    def link(self, text):
        return self.wait(EC.element_to_be_clickable((By.XPATH, f'//a[normalize-space()="{text}"]')))

    def main_text(self):
        return self.driver.find_element(By.ID, "main").text

    def wait_text(self, text, where="main"):
        """Waits until `text` shows in the element with id `where`."""
        self.wait(EC.text_to_be_present_in_element((By.ID, where), text))

    def go(self, hash_route):
        self.driver.get(f"{self.server.url}/ui/#{hash_route}")

    def open(self, hash_route, heading):
        """Goes to a route and waits until its view has loaded: `heading` in its <h1>, no "Loading…" left."""
        self.go(hash_route)
        self.wait(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), heading))
        self.wait(lambda d: "Loading…" not in d.find_element(By.ID, "main").text
                  and "Searching…" not in d.find_element(By.ID, "main").text)

    def sign_in(self, token):
        self.go("/")
        field = self.wait(EC.element_to_be_clickable((By.ID, "token")))
        assert self.labelled("Token") == field
        field.clear()
        field.send_keys(token)
        self.button("Sign in").click()
        self.wait(EC.element_to_be_clickable((By.XPATH, '//button[normalize-space()="Sign out"]')))

    def confirm_dialog(self):
        """The open confirmation dialog."""
        return self.wait(EC.visibility_of_element_located((By.CSS_SELECTOR, "dialog[open]")))

    def errors(self):
        """Problems the browser logged (CSP violations, script errors)."""
        return [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
