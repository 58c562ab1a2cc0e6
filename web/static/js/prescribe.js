// The doctor's prescribing panel, on the call page and the doctor's visit page
// (_prescriptions.html "prescribe"), against the prescriptions API (prescriptions/README.md):
// the patient's health record (GET .../health-summary), drugs searched as they are typed
// (GET /api/drugs?q=), and the prescription sent (POST .../prescriptions). The safety rules'
// findings come back as a 422: an error is shown beside its field (prescription-refused);
// a warning asks for the doctor's reason in a box of its own (reasons-required), and the
// prescription is sent again with the reasons. The issued prescription joins the list.
import { applyProblem } from "./forms.js";

const AMOUNT = /^[0-9]{1,8}(\.[0-9]{1,4})?$/;
const SEARCH_DELAY_MS = 200;
// What is handed over, by the drug's dosage form (the doctor may change it).
const QUANTITY_UNIT_BY_FORM = [
  [/capsule/, "capsule"],
  [/tablet/, "tablet"],
  [/^(granules|powder)$/, "sachet"],
  [/^inhalation_(aerosol|powder)$/, "inhaler"],
  [/ointment|cream|gel/, "tube"],
  [/^(injection|powder_for_injection|injectable_emulsion)$/, "ampoule"],
  [/suppository/, "suppository"],
  [/patch/, "patch"],
  [/drops|solution|syrup|suspension|spray/, "bottle"],
];

let counter = 0;

class Prescribe {
  constructor(root) {
    this.root = root;
    this.id = root.dataset.consultation;
    this.text = JSON.parse(root.dataset.messages);
    this.form = root.querySelector("[data-prescribe-form]");
    this.csrf = this.form.querySelector("input[name=_csrf]").value;
    this.items = root.querySelector("[data-items]");
    this.template = root.querySelector("[data-item-template]");
    this.health = root.querySelector("[data-health]");
    this.status = root.querySelector("[data-rx-status]");
    this.findingsBox = root.querySelector("[data-findings-box]");
    this.findingsList = root.querySelector("[data-findings]");
    this.reasons = root.querySelector("[data-reasons]");
    this.submitButton = this.form.querySelector("button[type=submit]");
    this.lang = document.documentElement.lang;
    this.summaryLoaded = false;
    this.uid = `rx${++counter}`;

    root.querySelector("[data-add-item]").addEventListener("click", () => {
      const row = this.addItem();
      row.querySelector("[data-input=drug_search]").focus();
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.addItem();
    // On the call page the panel is folded away: read the record when it is opened.
    const fold = root.closest("details");
    if (root.dataset.load === "open" && fold) {
      fold.addEventListener("toggle", () => {
        if (fold.open && !this.summaryLoaded) this.loadSummary();
      });
      if (fold.open) this.loadSummary();
    } else {
      this.loadSummary();
    }
  }

  words(name, params = {}) {
    let message = this.text[name] || name;
    for (const [key, value] of Object.entries(params)) message = message.replace(`{${key}}`, value);
    return message;
  }

  async api(method, path, body) {
    const init = { method, headers: { Accept: "application/json", "X-CSRF-Token": this.csrf } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    try {
      const answer = await fetch(path, init);
      const data = await answer.json().catch(() => ({}));
      return { ok: answer.ok, status: answer.status, data };
    } catch (error) {
      return { ok: false, status: 0, data: {} };
    }
  }

  // -- the patient's health record ----------------------------------------------------------
  async loadSummary() {
    const answer = await this.api("GET", `/api/consultations/${this.id}/health-summary`);
    this.health.replaceChildren();
    if (!answer.ok) {
      const code = answer.data.errors && answer.data.errors[0] && answer.data.errors[0].code;
      this.health.append(this.paragraph(this.text[code] || this.text.summary_failed, "muted"));
      return;
    }
    this.summaryLoaded = true;
    const summary = answer.data;
    const labels = JSON.parse(this.health.dataset.labels);
    const who = [this.words("age_years", { years: summary.age_years })];
    if (summary.sex) who.push(this.text[summary.sex]);
    const lead = this.paragraph(who.join(" · "));
    lead.dataset.patient = "";
    const facts = document.createElement("dl");
    facts.className = "facts rx-health-facts";
    for (const key of ["allergies", "chronic_conditions", "current_medications"]) {
      const values = summary[key];
      // Never recorded is not "none": the doctor must ask.
      const shown = summary.recorded_at === null ? this.text.not_recorded : values.length ? values.join("、") : this.text.none;
      const row = document.createElement("div");
      row.dataset.health = key;
      const term = document.createElement("dt");
      term.textContent = labels[key];
      const detail = document.createElement("dd");
      detail.textContent = shown;
      row.append(term, detail);
      facts.append(row);
    }
    this.health.append(lead, facts);
    if (summary.recorded_at) {
      const clock = new Intl.DateTimeFormat(this.lang, { dateStyle: "medium", timeZone: this.root.dataset.timeZone || undefined });
      this.health.append(this.paragraph(this.words("recorded_at", { time: clock.format(new Date(summary.recorded_at)) }), "hint"));
    }
  }

  paragraph(text, className) {
    const p = document.createElement("p");
    if (className) p.className = className;
    p.textContent = text;
    return p;
  }

  // -- items ----------------------------------------------------------------------------------
  addItem() {
    const row = this.template.content.firstElementChild.cloneNode(true);
    this.items.append(row);
    row.querySelector("[data-remove-item]").addEventListener("click", () => {
      row.remove();
      this.renumber();
      this.clearReasons();
      const last = this.items.querySelector("[data-item]:last-child [data-input=drug_search]");
      if (last) last.focus();
    });
    this.wireSearch(row);
    this.renumber();
    this.clearReasons();
    return row;
  }

  // Each row's fields are named as the API names them (items[1].dose), so a problem's
  // errors land beside them; labels point at their inputs.
  renumber() {
    const rows = [...this.items.querySelectorAll("[data-item]")];
    rows.forEach((row, index) => {
      row.querySelector("[data-item-title]").textContent = this.words("item_n", { n: index + 1 });
      for (const field of row.querySelectorAll("[data-name]")) {
        field.dataset.field = `items[${index}].${field.dataset.name}`;
      }
      for (const label of row.querySelectorAll("label[data-for]")) {
        const input = row.querySelector(`[data-input="${label.dataset.for}"]`);
        input.id = `${this.uid}-item${index}-${label.dataset.for}`;
        label.htmlFor = input.id;
      }
      const hint = row.querySelector("[data-hint]");
      const search = row.querySelector("[data-input=drug_search]");
      hint.id = `${search.id}-hint`;
      search.setAttribute("aria-describedby", hint.id);
      const options = row.querySelector("[data-options]");
      options.id = `${search.id}-options`;
      search.setAttribute("aria-controls", options.id);
      row.querySelector("[data-remove-item]").hidden = rows.length === 1;
    });
  }

  // -- searching the drug catalog as the doctor types ------------------------------------------
  wireSearch(row) {
    const search = row.querySelector("[data-input=drug_search]");
    const chosen = row.querySelector("[data-value=drug_id]");
    const options = row.querySelector("[data-options]");
    const status = row.querySelector("[data-search-status]");
    let timer = null;
    let asked = 0;
    let active = -1;

    const close = () => {
      options.hidden = true;
      search.setAttribute("aria-expanded", "false");
      search.removeAttribute("aria-activedescendant");
      active = -1;
    };
    const highlight = (index) => {
      const all = [...options.children];
      if (!all.length) return;
      active = (index + all.length) % all.length;
      all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
      search.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    };
    const choose = (drug) => {
      chosen.value = drug.id;
      search.value = this.drugName(drug);
      search.dataset.chosen = search.value;
      this.prefill(row, drug);
      status.textContent = "";
      close();
    };
    const look = async () => {
      const typed = search.value.trim();
      const mine = ++asked;
      if (!typed) {
        options.replaceChildren();
        close();
        status.textContent = "";
        return;
      }
      status.textContent = this.text.searching;
      const answer = await this.api("GET", `/api/drugs?${new URLSearchParams({ q: typed, limit: "8" })}`);
      if (mine !== asked) return; // a later keystroke asked again
      options.replaceChildren();
      if (!answer.ok) {
        status.textContent = this.text.search_failed;
        close();
        return;
      }
      const drugs = answer.data.drugs || [];
      status.textContent = drugs.length ? "" : this.text.no_drugs;
      drugs.forEach((drug, index) => {
        const option = document.createElement("li");
        option.id = `${search.id}-option${index}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.drug = drug.id;
        option.textContent = `${this.drugName(drug)} · ${drug.atc_code}`;
        // mousedown, not click: the input keeps focus, so the list does not close first.
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          choose(drug);
        });
        options.append(option);
      });
      options.hidden = drugs.length === 0;
      search.setAttribute("aria-expanded", String(drugs.length > 0));
      active = -1;
      options.drugs = drugs;
    };

    search.addEventListener("input", () => {
      if (search.value !== search.dataset.chosen) chosen.value = "";
      clearTimeout(timer);
      timer = setTimeout(look, SEARCH_DELAY_MS);
    });
    search.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (options.hidden) return;
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        // Enter chooses (the highlighted drug, else the best match); it never sends the form.
        event.preventDefault();
        if (!options.hidden && options.drugs && options.drugs.length) choose(options.drugs[Math.max(active, 0)]);
      } else if (event.key === "Escape" && !options.hidden) {
        event.preventDefault();
        close();
      }
    });
    search.addEventListener("blur", () => setTimeout(close, 150));
  }

  drugName(drug) {
    const name = this.lang.startsWith("zh") ? drug.generic_name_zh : drug.generic_name_en;
    return `${name} ${drug.strength} ${drug.unit}`;
  }

  // The catalog's route and strength unit are the likeliest; the doctor may change them.
  prefill(row, drug) {
    const set = (name, value) => {
      const select = row.querySelector(`[data-input="${name}"]`);
      if ([...select.options].some((option) => option.value === value)) select.value = value;
    };
    set("route", drug.route);
    if (this.text.dose_units.includes(drug.unit)) set("dose_unit", drug.unit);
    const match = QUANTITY_UNIT_BY_FORM.find(([pattern]) => pattern.test(drug.dosage_form));
    if (match) set("quantity_unit", match[1]);
  }

  // -- sending ----------------------------------------------------------------------------------
  body() {
    const items = [...this.items.querySelectorAll("[data-item]")].map((row) => {
      const value = (name) => row.querySelector(`[data-input="${name}"]`).value.trim();
      return {
        drug_id: row.querySelector("[data-value=drug_id]").value,
        dose: value("dose"),
        dose_unit: value("dose_unit"),
        route: value("route"),
        frequency: value("frequency"),
        duration_days: Number(value("duration_days")),
        quantity: value("quantity"),
        quantity_unit: value("quantity_unit"),
        instructions: value("instructions"),
      };
    });
    const reasons = {};
    for (const box of this.reasons.querySelectorAll("[data-reason]")) {
      const text = box.querySelector("textarea").value.trim();
      if (text) reasons[box.dataset.reason] = text;
    }
    return {
      diagnosis: this.form.elements.diagnosis.value.trim(),
      items,
      chronic_follow_up: this.form.elements.chronic_follow_up.checked,
      valid_days: Number(this.form.elements.valid_days.value),
      reasons,
    };
  }

  // What the API would refuse as unreadable, named at once before anything is sent.
  missing(body) {
    const errors = [];
    if (!body.diagnosis) errors.push({ field: "diagnosis", code: "required" });
    body.items.forEach((item, index) => {
      const at = (name) => `items[${index}].${name}`;
      if (!item.drug_id) errors.push({ field: at("drug_id"), code: "required" });
      for (const name of ["dose", "quantity"]) {
        if (!item[name]) errors.push({ field: at(name), code: "required" });
        else if (!AMOUNT.test(item[name])) errors.push({ field: at(name), code: "invalid" });
      }
      if (!Number.isInteger(item.duration_days) || item.duration_days < 1 || item.duration_days > 366) {
        errors.push({ field: at("duration_days"), code: "invalid" });
      }
    });
    for (const box of this.reasons.querySelectorAll("[data-reason]")) {
      if (!box.querySelector("textarea").value.trim()) {
        errors.push({ field: box.dataset.field, code: "reason-required" });
      }
    }
    return errors;
  }

  busy(on) {
    this.submitButton.setAttribute("aria-disabled", String(on));
    this.submitButton.dataset.busy = on ? "true" : "";
    const label = this.submitButton.querySelector(".button-label");
    if (on) {
      this.idleLabel = label.textContent;
      label.textContent = this.submitButton.dataset.busyLabel;
    } else if (this.idleLabel) {
      label.textContent = this.idleLabel;
    }
  }

  async submit() {
    if (this.submitButton.dataset.busy === "true") return;
    const body = this.body();
    const missing = this.missing(body);
    if (missing.length) {
      applyProblem(this.form, { errors: missing }, this.text);
      this.status.textContent = this.text.check_fields;
      return;
    }
    this.busy(true);
    this.status.textContent = this.text.sending;
    const answer = await this.api("POST", `/api/consultations/${this.id}/prescriptions`, body);
    this.busy(false);
    if (answer.ok) {
      this.issued(answer.data);
      return;
    }
    const problem = answer.data || {};
    const findings = problem.findings || [];
    if (problem.type === "/problems/reasons-required") {
      this.showFindings(findings);
      this.askReasons(problem.errors || [], findings);
      applyProblem(this.form, problem, this.messages(problem, findings));
      this.status.textContent = this.text.reasons_needed;
    } else if (problem.type === "/problems/prescription-refused") {
      this.showFindings(findings);
      applyProblem(this.form, problem, this.messages(problem, findings));
      this.status.textContent = this.text.refused;
    } else {
      const unplaced = applyProblem(this.form, problem, this.messages(problem, findings));
      const code = unplaced[0] && unplaced[0].code;
      this.status.textContent = (code && this.text[code]) || (problem.errors && !unplaced.length ? this.text.check_fields : this.text.failed);
    }
  }

  findingMessage(finding) {
    return this.lang.startsWith("zh") ? finding.message_zh : finding.message_en;
  }

  // The rules' own words, in the page's language, for each error they found.
  messages(problem, findings) {
    const messages = { ...this.text };
    for (const finding of findings) {
      if (finding.field) messages[`${finding.field}.${finding.rule}`] = this.findingMessage(finding);
      messages[`body.${finding.rule}`] = this.findingMessage(finding);
    }
    return messages;
  }

  showFindings(findings) {
    this.findingsList.replaceChildren();
    for (const finding of findings) {
      const entry = document.createElement("li");
      entry.className = `rx-finding rx-finding-${finding.severity}`;
      entry.dataset.rule = finding.rule;
      entry.dataset.severity = finding.severity;
      const badge = document.createElement("span");
      badge.className = `badge ${finding.severity === "error" ? "badge-bad" : finding.severity === "warning" ? "badge-warn" : "badge-muted"}`;
      badge.textContent = this.text[`severity_${finding.severity}`];
      entry.append(badge, " ", this.findingMessage(finding));
      this.findingsList.append(entry);
    }
    this.findingsBox.hidden = findings.length === 0;
  }

  // One box per warning without a reason (reasons.<rule/field>); a box whose warning is gone
  // (the prescription changed) goes too.
  askReasons(errors, findings) {
    const keyOf = (finding) => (finding.field ? `${finding.rule}/${finding.field}` : finding.rule);
    for (const error of errors) {
      const key = error.field.replace(/^reasons\./, "");
      const existing = [...this.reasons.querySelectorAll("[data-reason]")].find((box) => box.dataset.reason === key);
      if (error.code === "no-such-warning") {
        if (existing) existing.remove();
        continue;
      }
      if (existing) continue;
      const finding = findings.find((f) => f.severity === "warning" && keyOf(f) === key);
      const box = document.createElement("div");
      box.className = "field";
      box.dataset.reason = key;
      box.dataset.field = error.field;
      const id = `${this.uid}-reason-${this.reasons.children.length}`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = this.words("reason_for", { message: finding ? this.findingMessage(finding) : key });
      const row = document.createElement("div");
      row.className = "input-row";
      const area = document.createElement("textarea");
      area.id = id;
      area.rows = 2;
      area.maxLength = 500;
      row.append(area);
      box.append(label, row);
      this.reasons.append(box);
    }
  }

  clearReasons() {
    this.reasons.replaceChildren();
    this.findingsList.replaceChildren();
    this.findingsBox.hidden = true;
  }

  issued(prescription) {
    applyProblem(this.form, { errors: [] });
    this.clearReasons();
    this.form.reset();
    this.items.replaceChildren();
    this.addItem();
    this.status.textContent = this.text.issued;
    const list = (this.root.closest("section, details") || document).querySelector("[data-rx-list]");
    const none = document.querySelector("[data-rx-none]");
    if (none) none.remove();
    if (list) list.append(this.entry(prescription));
  }

  entry(p) {
    const entry = document.createElement("li");
    entry.className = "rx-entry";
    entry.dataset.prescription = p.id;
    const head = document.createElement("div");
    head.className = "section-title";
    const title = document.createElement("h3");
    title.textContent = p.diagnosis;
    const badge = document.createElement("span");
    badge.className = "badge badge-warn";
    badge.dataset.standing = p.standing;
    badge.textContent = this.text.standing[p.standing] || p.standing;
    head.append(title, badge);
    const items = document.createElement("ul");
    items.className = "rx-entry-items";
    for (const item of p.items) {
      const line = document.createElement("li");
      const name = this.lang.startsWith("zh") ? item.drug.generic_name_zh : item.drug.generic_name_en;
      line.textContent = [
        `${name} ${item.drug.strength} ${item.drug.unit}`,
        this.words("per_dose", { dose: `${item.dose} ${this.text.units[item.dose_unit] || item.dose_unit}` }),
        this.text.routes[item.route] || item.route,
        this.text.frequencies[item.frequency] || item.frequency,
        this.words("days_n", { days: item.duration_days }),
        `× ${item.quantity} ${this.text.units[item.quantity_unit] || item.quantity_unit}`,
      ].join(" · ");
      items.append(line);
    }
    const zone = this.root.dataset.timeZone || undefined;
    const written = new Intl.DateTimeFormat(this.lang, { dateStyle: "medium", timeStyle: "short", timeZone: zone }).format(new Date(p.written_at));
    const until = new Intl.DateTimeFormat(this.lang, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(`${p.valid_until}T00:00:00Z`));
    const when = this.paragraph(`${this.words("written", { time: written })} · ${this.words("valid_until", { date: until })}`, "muted");
    const links = document.createElement("p");
    links.className = "rx-links";
    const print = document.createElement("a");
    print.href = `/prescriptions/${p.id}/print`;
    print.textContent = this.text.print;
    const pdf = document.createElement("a");
    pdf.href = `/api/prescriptions/${p.id}/pdf`;
    pdf.textContent = this.text.pdf;
    links.append(print, " · ", pdf);
    entry.append(head, items, when, links);
    return entry;
  }
}

for (const root of document.querySelectorAll("[data-prescribe]")) new Prescribe(root);
