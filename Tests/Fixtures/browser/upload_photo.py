"""Drives a bundle's web page in headless Chromium (Debian's chromium and chromium-driver, through
selenium): uploads a photo, waits for the result, keeps a screenshot, and checks the pixels the
page really shows for the result image against the expected image.

Usage: python upload_photo.py URL PHOTO EXPECTED_NPY SCREENSHOT
EXPECTED_NPY holds the model's output tensor, CHW (or NCHW) float in 0..255. The original shown
beside the result must be the photo itself (the style-transfer sample has random weights, so its
result is nearly black: the original is the part of the page with real texture).
Prints one JSON line; exits 1 when the page does not show the expected image.
"""
import json
import sys

import numpy as np
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

url, photo, expected_path, screenshot = sys.argv[1:5]
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,800",
                 "--force-color-profile=srgb"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.set_page_load_timeout(600)
    driver.get(url)
    driver.find_element(By.CSS_SELECTOR, "input[type=file][accept='image/*']").send_keys(photo)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 600).until(lambda d: d.find_elements(By.ID, "result") or d.find_elements(By.ID, "error"))
    driver.save_screenshot(screenshot)
    errors = driver.find_elements(By.ID, "error")
    if errors:
        print(json.dumps({"ok": False, "error": errors[0].text}))
        sys.exit(1)
    def pixels(element_id):
        """The RGB pixels the page decoded for an <img>, read back through a canvas."""
        width, height, rgba = driver.execute_script(
            """const image = arguments[0];
            const canvas = document.createElement('canvas');
            canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
            const context = canvas.getContext('2d');
            context.drawImage(image, 0, 0);
            return [canvas.width, canvas.height, Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data)];""",
            driver.find_element(By.ID, element_id))
        return width, height, np.array(rgba, dtype=np.int32).reshape(height, width, 4)[:, :, :3]

    from PIL import Image
    _, _, original = pixels("original")
    photo_pixels = np.asarray(Image.open(photo).convert("RGB"), dtype=np.int32)
    original_difference = int(np.abs(original - photo_pixels).max()) if original.shape == photo_pixels.shape else None
    width, height, shown = pixels("result")
    expected = np.load(expected_path)
    while expected.ndim > 3:
        expected = expected[0]
    expected = np.clip(expected.transpose(1, 2, 0), 0, 255).astype(np.uint8).astype(np.int32)
    difference = int(np.abs(shown - expected).max()) if shown.shape == expected.shape else None
    latency = driver.find_element(By.ID, "latency").text
    result = {"ok": difference is not None and difference <= 2 and original_difference is not None
              and original_difference <= 2 and "ms" in latency,
              "size": [width, height], "max_pixel_difference": difference,
              "original_max_pixel_difference": original_difference, "latency": latency}
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
finally:
    driver.quit()
