//! Reading the trace page back: its requests (`<details class="tree">`)
//! and their rows (`<tr class="call">`) with each bar's place, from the
//! server's HTML or from the DOM a browser serialised after loading it.
//! Bar places are read in thousandths of a percent, as written.

/// One request on the page.
#[derive(Debug)]
pub struct Tree {
    /// The element's `id`.
    pub id: String,
    /// Its classes (`tree`, `failed`).
    pub classes: Vec<String>,
    /// The request name as it stands in the markup (escaped).
    pub request: String,
    /// `data-wall-ns`.
    pub wall_ns: u64,
    /// The summary's marks (`failed`, `slow call`).
    pub marks: Vec<String>,
    /// The rows, root first.
    pub rows: Vec<Row>,
    /// The element's markup.
    pub html: String,
}

/// One call of a request.
#[derive(Debug)]
pub struct Row {
    /// Its classes (`call`, the outcome, `sync`, `slow`, `aggregate`).
    pub classes: Vec<String>,
    /// `data-depth`.
    pub depth: usize,
    /// `data-wall-ns`.
    pub wall_ns: u64,
    /// `data-start-ns`; `None` for aggregates.
    pub start_ns: Option<u64>,
    /// The function name as it stands in the markup (escaped).
    pub name: String,
    /// The bar's `left` and `width`, in thousandths of a percent.
    pub bar: Option<(u64, u64)>,
    /// The busy part's width, in thousandths of a percent of the bar.
    pub busy: Option<u64>,
    /// The marks (`err`, `panic`, `cancelled`, `slow`, `×N`, `err ×N`).
    pub marks: Vec<String>,
}

impl Tree {
    /// Whether the request has the class.
    #[must_use]
    pub fn has_class(&self, class: &str) -> bool {
        self.classes.iter().any(|c| c == class)
    }
}

impl Row {
    /// Whether the row has the class.
    #[must_use]
    pub fn has_class(&self, class: &str) -> bool {
        self.classes.iter().any(|c| c == class)
    }
}

/// The requests of the section `section` (`slowest` or `failed`).
///
/// # Panics
/// If the page has no such section, or its markup is not the page's.
#[must_use]
pub fn trees(html: &str, section: &str) -> Vec<Tree> {
    let open = format!("<section id=\"{section}\">");
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("no section {section:?} in\n{html}"));
    let rest = &html[start + open.len()..];
    let body = &rest[..rest.find("</section>").expect("the section ends")];
    body.split("<details ")
        .skip(1)
        .map(|part| {
            let element = &part[..part.find("</details>").expect("a request ends")];
            tree(element)
        })
        .collect()
}

fn tree(element: &str) -> Tree {
    let head = format!(
        "<details {}",
        &element[..element.find('>').expect("a start tag")]
    );
    let head = head.as_str();
    let summary = between(element, "<summary>", "</summary>").expect("a summary");
    Tree {
        id: attr(head, "id").expect("an id").to_owned(),
        classes: classes(head),
        request: between(summary, "<span class=\"req\">", "</span>")
            .expect("a request name")
            .to_owned(),
        wall_ns: number(attr(head, "data-wall-ns").expect("data-wall-ns")),
        marks: marks(summary),
        rows: element
            .split("<tr class=\"call ")
            .skip(1)
            .map(|part| row(&part[..part.find("</tr>").expect("a row ends")]))
            .collect(),
        html: element.to_owned(),
    }
}

fn row(part: &str) -> Row {
    let head = format!(
        "<tr class=\"call {}",
        &part[..part.find('>').expect("a start tag")]
    );
    let bar = part.find("<div class=\"bar\"").map(|at| {
        let style = attr(&part[at..], "style").expect("a bar style");
        (percent(style, "left:"), percent(style, "width:"))
    });
    let busy = part.find("<div class=\"busy\"").map(|at| {
        let style = attr(&part[at..], "style").expect("a busy style");
        percent(style, "width:")
    });
    let marks_cell = between(part, "<td class=\"marks\">", "</td>").unwrap_or("");
    let mut marks = marks(marks_cell);
    let name_cell = between(part, "<td class=\"fn\"", "</td>").expect("a name cell");
    marks.extend(self::marks(name_cell));
    Row {
        classes: classes(&head),
        depth: number(attr(&head, "data-depth").expect("data-depth"))
            .try_into()
            .expect("a depth"),
        wall_ns: number(attr(&head, "data-wall-ns").expect("data-wall-ns")),
        start_ns: attr(&head, "data-start-ns").map(number),
        name: between(name_cell, "<span class=\"name\">", "</span>")
            .expect("a name")
            .to_owned(),
        bar,
        busy,
        marks,
    }
}

/// The texts of the `<span class="mark ...">` elements in `html`.
fn marks(html: &str) -> Vec<String> {
    html.split("<span class=\"mark ")
        .skip(1)
        .filter_map(|part| between(part, ">", "</span>"))
        .map(str::to_owned)
        .collect()
}

/// The value of `name="..."` in the start tag at the beginning of `tag`.
#[must_use]
pub fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let len = tag[at..].find('"')?;
    Some(&tag[at..at + len])
}

fn classes(tag: &str) -> Vec<String> {
    attr(tag, "class")
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let at = text.find(open)? + open.len();
    let len = text[at..].find(close)?;
    Some(&text[at..at + len])
}

fn number(text: &str) -> u64 {
    text.parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

/// `12.345%` after `key` in a style, as 12 345.
fn percent(style: &str, key: &str) -> u64 {
    let at = style
        .find(key)
        .unwrap_or_else(|| panic!("no {key} in {style:?}"))
        + key.len();
    let value = &style[at..];
    let value = value[..value.find('%').expect("a percentage")].trim();
    let (whole, fraction) = value.split_once('.').expect("three decimals");
    assert_eq!(fraction.len(), 3, "three decimals in {value:?}");
    number(whole) * 1000 + number(fraction)
}
