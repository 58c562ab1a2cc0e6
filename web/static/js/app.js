// Progressive enhancement only: every page works without this file.
import { enhanceProgress } from "./progress.js";
import { enhancePasswordReveal } from "./password.js";
import { focusErrorSummary } from "./forms.js";
import { enhanceMore } from "./more.js";
import { enhanceCountdowns } from "./countdown.js";
import { enhanceUploads } from "./upload.js";

enhanceUploads(document);
enhanceProgress(document);
enhancePasswordReveal(document);
focusErrorSummary(document);
enhanceMore(document);
enhanceCountdowns(document);
