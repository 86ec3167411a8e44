package org.busispark.evaluate;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Base64;
import java.util.Iterator;
import java.util.Map;

/**
 * A self-contained report.html (plots embedded as data URIs) of one evaluation: the headline metrics with
 * their confidence intervals, per-class and per-site metrics, the plots, the dataset summary from ingest, and the model card.
 */
public final class HtmlReport {
    private HtmlReport() {}

    /**
     * @param plots   title → PNG bytes, in display order
     * @param ingest  the dataset's ingest-report.json, or null when it cannot be found
     */
    public static String render(EvaluateJob.Report report, Map<String, byte[]> plots, String modelCardJson,
                                JsonNode ingest) {
        EvaluationResult r = report.result();
        Metrics m = r.metrics();
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>busi-spark evaluation</title><style>")
                .append("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}")
                .append("th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}")
                .append("img{width:48%;border:1px solid #ddd;margin:4px;vertical-align:top}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}")
                .append(".muted{color:#777}</style></head><body>");
        h.append("<h1>Breast-ultrasound classifier: evaluation</h1>");
        h.append("<p>Model <code>").append(esc(report.model())).append("</code><br>Data <code>").append(esc(report.data()))
                .append("</code> (<b>").append(esc(report.selection())).append("</b>)")
                .append("<br><span class=\"muted\">").append(m.count()).append(" images evaluated, ")
                .append(report.imagesUnusable()).append(" unusable; ").append(esc(report.evaluatedAt())).append("</span></p>");

        h.append("<h2>Headline metrics</h2><table><tr><th>metric</th><th>value</th><th>95% bootstrap interval</th></tr>");
        row(h, "accuracy", m.accuracy(), r.confidenceIntervals().get("accuracy"));
        row(h, "macro-F1", m.macroF1(), r.confidenceIntervals().get("macroF1"));
        row(h, "macro ROC-AUC (one vs rest)", r.macroRocAuc(), r.confidenceIntervals().get("macroRocAuc"));
        row(h, "average cross-entropy loss", m.averageLoss(), null);
        row(h, "expected calibration error", r.expectedCalibrationError(), null);
        EvaluationResult.Binary b = r.malignantVsRest();
        if (b != null) {
            row(h, "malignant sensitivity (missed malignant = 1 − this)", b.sensitivity(), null);
            row(h, "malignant specificity", b.specificity(), null);
            row(h, "malignant vs rest ROC-AUC", b.rocAuc(), null);
        }
        h.append("</table>");

        h.append("<h2>Per class</h2><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>ROC-AUC</th><th>support</th></tr>");
        for (Metrics.ClassMetrics c : m.perClass()) {
            h.append("<tr><td>").append(esc(c.label())).append("</td>").append(num(c.precision())).append(num(c.recall()))
                    .append(num(c.f1())).append(num(r.rocAuc().get(c.label()))).append("<td>").append(c.support())
                    .append("</td></tr>");
        }
        h.append("</table>");

        perSite(h, report);

        h.append("<h2>Plots</h2>");
        plots.forEach((title, png) -> h.append("<img alt=\"").append(esc(title)).append("\" title=\"").append(esc(title))
                .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png)).append("\">"));

        h.append("<h2>Dataset</h2>");
        if (ingest == null) {
            h.append("<p class=\"muted\">No ingest report found next to the training data.</p>");
        } else {
            dataset(h, ingest);
        }
        h.append("<h2>Model card</h2><pre>").append(esc(modelCardJson)).append("</pre></body></html>");
        return h.toString();
    }

    private static void dataset(StringBuilder h, JsonNode ingest) {
        h.append("<p>From <code>").append(esc(ingest.path("input").asText())).append("</code>: ")
                .append(ingest.path("seen").asLong()).append(" files seen in the last run, ")
                .append(ingest.path("accepted").asLong()).append(" accepted, ")
                .append(ingest.path("quarantined").asLong()).append(" quarantined, ")
                .append(ingest.path("skipped").asLong()).append(" skipped.</p>");
        JsonNode perSplit = ingest.path("datasetPerSplit");
        if (perSplit.isObject()) {
            h.append("<table><tr><th>split</th><th>benign / malignant / normal …</th><th>images</th></tr>");
            for (Iterator<Map.Entry<String, JsonNode>> it = perSplit.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                long total = 0;
                StringBuilder parts = new StringBuilder();
                for (Iterator<Map.Entry<String, JsonNode>> c = e.getValue().fields(); c.hasNext(); ) {
                    Map.Entry<String, JsonNode> ce = c.next();
                    total += ce.getValue().asLong();
                    parts.append(parts.length() == 0 ? "" : ", ").append(esc(ce.getKey())).append(' ').append(ce.getValue().asLong());
                }
                h.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(parts).append("</td><td>")
                        .append(total).append("</td></tr>");
            }
            h.append("</table>");
        }
        h.append("<p>").append(ingest.path("duplicateGroupCount").asInt())
                .append(" duplicate groups (exact or near duplicates within ")
                .append(ingest.path("nearDuplicateDistance").asInt()).append(" bits, or one patient), each kept in one split; ")
                .append(ingest.path("labelConflicts").size()).append(" label conflicts, policy <b>")
                .append(esc(ingest.path("labelConflictPolicy").asText())).append("</b>.</p>");
        if (ingest.path("labelConflicts").size() > 0) {
            h.append("<table><tr><th>group</th><th>labels</th><th>images</th><th>action</th></tr>");
            for (JsonNode g : ingest.path("labelConflicts")) {
                StringBuilder names = new StringBuilder();
                for (JsonNode p : g.path("newMembers")) {
                    String s = p.asText();
                    names.append(names.length() == 0 ? "" : ", ").append(esc(s.substring(s.lastIndexOf('/') + 1)));
                }
                h.append("<tr><td>").append(esc(g.path("id").asText().substring(0, 8))).append("</td><td>")
                        .append(esc(g.path("labels").toString())).append("</td><td>").append(names).append("</td><td>")
                        .append(esc(g.path("action").asText())).append("</td></tr>");
            }
            h.append("</table>");
        }
        JsonNode reasons = ingest.path("quarantinedByReason");
        if (reasons.size() > 0) {
            h.append("<p>Quarantined by reason: ").append(esc(reasons.toString())).append("</p>");
        }
    }

    private static void perSite(StringBuilder h, EvaluateJob.Report report) {
        h.append("<h2>Per site</h2><table><tr><th>site</th><th>images</th><th>accuracy</th><th>macro-F1</th>")
                .append("<th>macro ROC-AUC</th><th>malignant sensitivity</th><th>malignant specificity</th>")
                .append("<th>malignant vs rest ROC-AUC</th></tr>");
        report.perSite().forEach((site, s) -> {
            EvaluationResult r = s.result();
            EvaluationResult.Binary b = r.malignantVsRest();
            h.append("<tr><td>").append(site.isEmpty() ? "<i>no site</i>" : esc(site)).append("</td><td>")
                    .append(r.metrics().count()).append("</td>")
                    .append(withInterval(r.metrics().accuracy(), r.confidenceIntervals().get("accuracy")))
                    .append(withInterval(r.metrics().macroF1(), r.confidenceIntervals().get("macroF1")))
                    .append(withInterval(r.macroRocAuc(), r.confidenceIntervals().get("macroRocAuc")))
                    .append(num(b == null ? null : b.sensitivity())).append(num(b == null ? null : b.specificity()))
                    .append(num(b == null ? null : b.rocAuc())).append("</tr>");
        });
        h.append("</table><p class=\"muted\">Macro averages cover the classes a site has; 95% bootstrap intervals in "
                + "brackets.</p>");
    }

    private static String withInterval(double value, EvaluationResult.Interval ci) {
        return Double.isNaN(value) || ci == null || Double.isNaN(ci.lower()) ? num(value)
                : String.format("<td>%.3f (%.3f – %.3f)</td>", value, ci.lower(), ci.upper());
    }

    private static void row(StringBuilder h, String name, double value, EvaluationResult.Interval ci) {
        h.append("<tr><td>").append(esc(name)).append("</td>").append(num(value)).append("<td>")
                .append(ci == null || Double.isNaN(ci.lower()) ? "" : String.format("%.3f – %.3f", ci.lower(), ci.upper()))
                .append("</td></tr>");
    }

    private static String num(Double v) {
        return "<td>" + (v == null || v.isNaN() ? "–" : String.format("%.3f", v)) + "</td>";
    }

    static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
