/**
 * Waiting assertions on Playwright locators for vitest (Playwright's own `expect` belongs to
 * @playwright/test, which we do not use). Page-side code is passed as strings: the root
 * tsconfig type-checks tests without the DOM library.
 */
import type { Locator } from "playwright-core";
import { expect } from "vitest";

const TIMEOUT = 15_000;

export async function visible(locator: Locator, timeout = TIMEOUT): Promise<void> {
  await locator.first().waitFor({ state: "visible", timeout });
}

export async function absent(locator: Locator, timeout = TIMEOUT): Promise<void> {
  await expect.poll(() => locator.count(), { timeout }).toBe(0);
}

export async function hasText(locator: Locator, expected: string | RegExp, timeout = TIMEOUT): Promise<void> {
  const read = async () =>
    (await locator.count()) === 0 ? null : (await locator.first().textContent())?.trim();
  if (typeof expected === "string") await expect.poll(read, { timeout }).toBe(expected);
  else await expect.poll(read, { timeout }).toMatch(expected);
}

export async function hasAttribute(locator: Locator, name: string, value: string | null, timeout = TIMEOUT) {
  await expect.poll(() => locator.first().getAttribute(name), { timeout }).toBe(value);
}

export async function hasCount(locator: Locator, count: number, timeout = TIMEOUT): Promise<void> {
  await expect.poll(() => locator.count(), { timeout }).toBe(count);
}

interface PageElement {
  ownerDocument: { activeElement: unknown; defaultView: PageWindow };
}
interface PageWindow {
  getComputedStyle(element: unknown): { getPropertyValue(name: string): string };
}

export async function isFocused(locator: Locator): Promise<boolean> {
  return locator.first().evaluate((el) => (el as PageElement).ownerDocument.activeElement === el);
}

export async function focused(locator: Locator, timeout = TIMEOUT): Promise<void> {
  await expect.poll(() => isFocused(locator), { timeout }).toBe(true);
}

/** A computed style property of the first element. */
export async function computedStyle(locator: Locator, property: string): Promise<string> {
  return locator
    .first()
    .evaluate(
      (el, name) => (el as PageElement).ownerDocument.defaultView.getComputedStyle(el).getPropertyValue(name),
      property,
    );
}
