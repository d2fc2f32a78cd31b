"""Drives a bundle's web page in headless Chromium (Debian's chromium and chromium-driver, through
selenium) for an image pipeline: uploads a photo to the pipeline's form, waits for the result,
keeps a screenshot, and checks the pixels the page really shows for the result: the photo's size,
not blank (mean level between 20 and 235) and clearly different from the photo.

Usage: python upload_pipeline_photo.py URL PHOTO SCREENSHOT
Prints one JSON line; exits 1 when the page does not show such an image.
"""
import json
import sys

import numpy as np
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

url, photo, screenshot = sys.argv[1:4]
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1300,900",
                 "--force-color-profile=srgb"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.set_page_load_timeout(600)
    driver.get(url)
    driver.find_element(By.CSS_SELECTOR, "input[type=file][name=IMAGE]").send_keys(photo)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 600).until(lambda d: d.find_elements(By.ID, "result") or d.find_elements(By.ID, "error"))
    driver.save_screenshot(screenshot)
    errors = driver.find_elements(By.ID, "error")
    if errors:
        print(json.dumps({"ok": False, "error": errors[0].text}))
        sys.exit(1)
    width, height, rgba = driver.execute_script(
        """const image = arguments[0];
        const canvas = document.createElement('canvas');
        canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0);
        return [canvas.width, canvas.height, Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data)];""",
        driver.find_element(By.ID, "result"))
    shown = np.array(rgba, dtype=np.float32).reshape(height, width, 4)[:, :, :3]
    original = np.asarray(Image.open(photo).convert("RGB"), dtype=np.float32)
    mean = float(shown.mean())
    change = float(np.abs(shown - original).mean()) if shown.shape == original.shape else None
    latency = driver.find_element(By.ID, "latency").text
    result = {"ok": [width, height] == [original.shape[1], original.shape[0]] and 20 <= mean <= 235
              and change is not None and change >= 20 and "ms" in latency,
              "size": [width, height], "photo_size": [original.shape[1], original.shape[0]],
              "mean_level": round(mean, 1), "mean_change_from_photo": change and round(change, 1), "latency": latency}
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
finally:
    driver.quit()
