/**
 * A small, forgiving XML reader for `nvidia-smi -q -x`: enough structure to select values by element
 * path (so `gpu/fb_memory_usage/total` is never confused with the same tags inside `mig_device`),
 * without pulling in an XML library. Declarations, DOCTYPE, comments and processing instructions are
 * skipped; a stray or missing end tag closes what it can instead of failing.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  /** The element's own text, entity-decoded and trimmed. */
  text: string;
  children: XmlElement[];
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity.startsWith("#x") || entity.startsWith("#X"))
      return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith("#")) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of source.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attributes[match[1] ?? ""] = decodeEntities(match[2] ?? match[3] ?? "");
  }
  return attributes;
}

/** Parses a document into a synthetic `#document` root whose children are the top-level elements. */
export function parseXmlTree(xml: string): XmlElement {
  const root: XmlElement = { name: "#document", attributes: {}, text: "", children: [] };
  const stack: XmlElement[] = [root];
  const textParts = new Map<XmlElement, string[]>();
  const tokens =
    /<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<![^>]*>|<\?[\s\S]*?\?>|<\/\s*([\w:.-]+)\s*>|<([\w:.-]+)([^>]*?)(\/?)>|([^<]+)/g;
  for (const token of xml.matchAll(tokens)) {
    const [, cdata, closeName, openName, attributeSource, selfClosing, text] = token;
    const current = stack[stack.length - 1] ?? root;
    if (text !== undefined || cdata !== undefined) {
      const parts = textParts.get(current) ?? [];
      parts.push(cdata ?? decodeEntities(text ?? ""));
      textParts.set(current, parts);
    } else if (openName !== undefined) {
      const element: XmlElement = {
        name: openName,
        attributes: parseAttributes(attributeSource ?? ""),
        text: "",
        children: [],
      };
      current.children.push(element);
      if (selfClosing !== "/") stack.push(element);
    } else if (closeName !== undefined) {
      const openIndex = stack.map((element) => element.name).lastIndexOf(closeName);
      // An end tag with no matching start tag is ignored; one that skips open elements closes them too.
      if (openIndex > 0) stack.length = openIndex;
    }
  }
  for (const [element, parts] of textParts) element.text = parts.join("").trim();
  return root;
}

/** Direct children named `name`. */
export function xmlChildren(element: XmlElement | undefined, name: string): XmlElement[] {
  return element?.children.filter((child) => child.name === name) ?? [];
}

/** The first element reached by following direct children along `path` ("gpu_power_readings/power_draw"). */
export function xmlSelect(element: XmlElement | undefined, path: string): XmlElement | undefined {
  let current = element;
  for (const step of path.split("/")) {
    current = current?.children.find((child) => child.name === step);
    if (current === undefined) return undefined;
  }
  return current;
}

/** The text at `path`, or undefined when the element is absent. */
export function xmlText(element: XmlElement | undefined, path: string): string | undefined {
  return xmlSelect(element, path)?.text;
}
