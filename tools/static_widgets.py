"""Widgets in a static deck: drawn from their saved state as plain HTML, controls included.

A deck has no kernel, so a live widget cannot run there. nbclient saves every widget's state in
the notebook's metadata (store_widget_state=True); this module turns the state of the widget an
output shows into HTML: its pictures (ipywidgets.Image), and each control as its label and current
value ("DDIM steps: 50", "z[0]: -1.2", a button's text), laid out as the widget's boxes lay them
out. Never a Python repr string, never an empty box.

    static_widget_html(model_id, states) -> str
    replace_widget_outputs(nb) -> int          every widget output of a notebook, in place
"""

from __future__ import annotations

import html

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

_BOXES = {"VBoxModel": "column", "BoxModel": "column", "HBoxModel": "row"}
_SELECTIONS = {
    "DropdownModel",
    "RadioButtonsModel",
    "ToggleButtonsModel",
    "SelectModel",
    "SelectionSliderModel",
}


def _child_id(ref: str) -> str:
    return ref.removeprefix("IPY_MODEL_")


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return " - ".join(_fmt(v) for v in value)
    return str(value)


def _control(label: str, value: str) -> str:
    label = html.escape(label.rstrip(":"))
    value = html.escape(value)
    text = f"{label}: <b>{value}</b>" if label else f"<b>{value}</b>"
    return f'<span class="control">{text}</span>'


def _hidden(state: dict, states: dict) -> bool:
    layout = states.get(_child_id(state.get("layout", "")), {}).get("state", {})
    return layout.get("display") == "none" or layout.get("visibility") == "hidden"


def static_widget_html(model_id: str, states: dict) -> str:
    """HTML for the widget `model_id` from the saved widget states {model_id: {model_name, state,
    buffers}}; unknown kinds show their name and description."""
    entry = states.get(model_id)
    if entry is None:
        return ""
    name, state = entry.get("model_name", ""), entry.get("state", {})
    if _hidden(state, states):
        return ""
    desc = state.get("description", "") or ""
    if name == "GridBoxModel":
        layout = states.get(_child_id(state.get("layout", "")), {}).get("state", {})
        columns = layout.get("grid_template_columns") or "repeat(3, auto)"
        parts = [static_widget_html(_child_id(c), states) for c in state.get("children", [])]
        style = (
            f"display:grid;grid-template-columns:{html.escape(columns)};gap:3px;width:max-content"
        )
        return f'<div style="{style}">{"".join(parts)}</div>'
    if name in _BOXES:
        parts = [static_widget_html(_child_id(c), states) for c in state.get("children", [])]
        parts = [p for p in parts if p]
        if _BOXES[name] == "row" or all(p.startswith('<span class="control"') for p in parts):
            return f'<div class="row">{"".join(parts)}</div>'
        return f'<div class="course-static-widget">{"".join(parts)}</div>'
    if name in ("TabModel", "AccordionModel", "StackModel"):
        children = state.get("children", [])
        index = state.get("selected_index") or 0
        titles = state.get("titles") or []
        if not children:
            return ""
        shown = static_widget_html(_child_id(children[index]), states)
        tabs = " | ".join(
            f"<b>{html.escape(t)}</b>" if i == index else html.escape(t)
            for i, t in enumerate(titles)
        )
        return f'<div class="course-static-widget"><div>{tabs}</div>{shown}</div>'
    if name == "ImageModel":
        data = next(
            (b["data"] for b in entry.get("buffers", []) if b.get("path") == ["value"]), None
        )
        if not data:
            return ""
        fmt = state.get("format", "png")
        size = "".join(
            f' {k}="{html.escape(str(state[k]))}"' for k in ("width", "height") if state.get(k)
        )
        return f'<img src="data:image/{fmt};base64,{data}"{size}>'
    if name in _SELECTIONS:
        labels = state.get("_options_labels", [])
        index = state.get("index")
        value = labels[index] if isinstance(index, int) and index < len(labels) else ""
        return _control(desc, value)
    if name in ("SelectMultipleModel", "SelectionRangeSliderModel"):
        labels = state.get("_options_labels", [])
        return _control(desc, ", ".join(labels[i] for i in state.get("index", [])))
    if name in ("ButtonModel",):
        return f'<span class="control">{html.escape(desc or state.get("tooltip", ""))}</span>'
    if name in ("ToggleButtonModel", "CheckboxModel"):
        mark = "on" if state.get("value") else "off"
        return _control(desc, mark)
    if name in ("LabelModel",):
        return f"<span>{html.escape(str(state.get('value', '')))}</span>"
    if name in ("HTMLModel", "HTMLMathModel"):
        return f"<div>{state.get('value', '')}</div>"
    if name in ("IntProgressModel", "FloatProgressModel"):
        return _control(desc, f"{_fmt(state.get('value'))} / {_fmt(state.get('max'))}")
    if name == "PlayModel":
        return _control(desc or "play", f"step {_fmt(state.get('value'))}")
    if name == "OutputModel":
        return "".join(_output_html(o) for o in state.get("outputs", []))
    if "value" in state and not isinstance(state["value"], dict):
        return _control(desc, _fmt(state["value"]))  # sliders, texts, numbers
    return _control(desc or name.removesuffix("Model"), "")


def _output_html(output: dict) -> str:
    data = output.get("data", {})
    if output.get("output_type") == "stream":
        return f"<pre>{html.escape(output.get('text', ''))}</pre>"
    if "image/png" in data:
        return f'<img src="data:image/png;base64,{data["image/png"]}">'
    if "text/html" in data:
        text = data["text/html"]
        return "".join(text) if isinstance(text, list) else text
    if "text/plain" in data:
        text = data["text/plain"]
        return f"<pre>{html.escape(''.join(text) if isinstance(text, list) else text)}</pre>"
    return ""


def replace_widget_outputs(nb) -> int:
    """Give every output that shows a widget a text/html picture of it (from the notebook's saved
    widget state) and drop the live-widget and repr data; returns how many were replaced."""
    states = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            view = data.get(WIDGET_VIEW)
            if not view:
                continue
            body = static_widget_html(view.get("model_id", ""), states)
            if not body:
                continue
            output["data"] = {
                "text/html": f'<div class="course-static-widget">{body}</div>',
            }
            replaced += 1
    return replaced
