import Foundation
import ResultsStore

/// The HTML pages of the site. Everything that comes from the database is escaped; the pages
/// are self-contained (inline style and script, nothing loaded from elsewhere).
enum SitePages {
    /// `/`: one line per experiment with its cell counts and links to its page and report.
    static func home(experiments: [ExperimentOverview], databasePath: String) -> String {
        var body = ["<h1>Backdrop results</h1>",
                    "<p class=\"meta\">\(escape(databasePath)), read-only. Reload to see new experiments; an experiment's page follows its runs live.</p>"]
        if experiments.isEmpty {
            body.append("<p>The database holds no experiments yet: <code>backdrop reproduce --spec …</code> records one.</p>")
        } else {
            body.append("<table id=\"experiments\">\n<thead><tr><th class=\"num\">id</th><th>name</th><th>created (UTC)</th>"
                        + "<th class=\"num\">cells done</th><th class=\"num\">reused</th><th class=\"num\">failed</th><th class=\"num\">running</th>"
                        + "<th>report</th><th>spec</th><th>overrides</th></tr></thead>\n<tbody>")
            for o in experiments.reversed() {
                let e = o.experiment
                body.append("<tr><td class=\"num\">\(e.id)</td><td><a href=\"/experiments/\(e.id)\">\(escape(e.name))</a></td>"
                            + "<td>\(escape(displayTime(SiteJSON.time(e.createdAt))))</td><td class=\"num\">\(o.finished)/\(o.total)</td>"
                            + "<td class=\"num\">\(o.linked)</td><td class=\"num\">\(o.failed)</td><td class=\"num\">\(o.running)</td>"
                            + "<td><a href=\"/experiments/\(e.id)/report\">report</a></td><td><code>\(escape(String(e.specSHA256.prefix(12))))</code></td>"
                            + "<td class=\"wrap\">\(escape(e.overrides.joined(separator: "; ")))</td></tr>")
            }
            body.append("</tbody>\n</table>")
        }
        return document(title: "Backdrop results", body: body)
    }

    /// `/experiments/<id>`: the experiment's runs and the chart of `key`, both redrawn by the
    /// page's script from the JSON endpoints every ``LiveChartScript/pollSeconds`` seconds.
    static func experiment(_ e: Experiment, runs: [SiteJSON.RunSummary], key: String, databasePath: String) -> String {
        var body = ["<p class=\"nav\"><a href=\"/\">All experiments</a> · <a href=\"/experiments/\(e.id)/report\">Report</a></p>",
                    "<h1>\(escape(e.name)) <span class=\"meta\">(experiment \(e.id))</span></h1>",
                    "<p class=\"meta\">Created \(escape(displayTime(SiteJSON.time(e.createdAt)))) UTC · spec <code>\(escape(String(e.specSHA256.prefix(12))))</code>"
                        + (e.overrides.isEmpty ? "" : " · overrides <code>\(escape(e.overrides.joined(separator: "; ")))</code>")
                        + " · \(escape(databasePath)), read-only</p>"]
        body.append("<section id=\"live\" data-experiment=\"\(e.id)\" data-key=\"\(escape(key))\" data-poll-ms=\"\(LiveChartScript.pollSeconds * 1000)\">")
        body.append("<h2>\(escape(key)) per step <span class=\"meta\">(one line per run, updated every \(LiveChartScript.pollSeconds) s; "
                    + "another metric: <code>?key=lr</code>)</span></h2>")
        body.append("<div id=\"chart\"><p class=\"meta\">The chart is drawn by the page's script; enable JavaScript to see it.</p></div>")
        body.append("<ul id=\"legend\"></ul>")
        body.append("<p id=\"live-status\" class=\"meta\"></p>")
        body.append("<h2>Runs</h2>")
        body.append("<table id=\"runs\">\n<thead><tr>" + runColumns.map { "<th>\($0)</th>" }.joined() + "</tr></thead>\n<tbody>")
        body += runs.map(runRow)
        body.append("</tbody>\n</table>")
        body.append("</section>")
        body.append("<script>\n\(LiveChartScript.source)\n</script>")
        return document(title: "\(e.name) — Backdrop results", body: body)
    }

    /// The run table's headings; the page's script fills the same columns.
    static let runColumns = ["run", "cell", "method", "train view", "regularizer", "seed", "status", "progress", "started (UTC)", "finished (UTC)"]

    /// One run as a table row (the script's `runRow` builds the same).
    static func runRow(_ r: SiteJSON.RunSummary) -> String {
        let status = r.status + (r.reusedFrom.map { " (reused from experiment \($0))" } ?? "")
        let cells = [String(r.id), r.cellKey, r.method, r.trainView, r.regularizer, String(r.seed)]
        return "<tr data-run=\"\(r.id)\">" + cells.map { "<td>\(escape($0))</td>" }.joined()
            + "<td class=\"status \(escape(r.status))\"\(r.error.map { " title=\"\(escape($0))\"" } ?? "")>\(escape(status))</td>"
            + "<td>\(escape(progress(r)))</td><td>\(escape(r.startedAt.map(displayTime) ?? ""))</td>"
            + "<td>\(escape(r.finishedAt.map(displayTime) ?? ""))</td></tr>"
    }

    /// `epoch 2/20 · step 180`: the epoch and step (counted from 1) of the run's last logged value.
    static func progress(_ r: SiteJSON.RunSummary) -> String {
        guard let step = r.step, let epoch = r.epoch else { return "" }
        return "epoch \(epoch + 1)" + (r.epochs.map { "/\($0)" } ?? "") + " · step \(step + 1)"
    }

    /// `2026-12-03T09:20:00Z` → `2026-12-03 09:20:00`.
    static func displayTime(_ iso: String) -> String {
        iso.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
    }

    /// Text made safe to place in HTML content and in quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    static let css = """
        body { font-family: -apple-system, "Helvetica Neue", Arial, sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; padding: 0 1em; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
        table { border-collapse: collapse; margin: .5em 0 1em; font-size: .9em; }
        th, td { padding: .25em .7em; border-bottom: 1px solid #e4e4e4; text-align: left; white-space: nowrap; }
        thead th { border-bottom: 2px solid #444; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .meta, .nav { color: #555; font-size: .9em; font-weight: normal; } code { background: #f4f4f4; padding: 0 .2em; }
        a { color: #1f5fa8; } td.wrap { white-space: normal; min-width: 24em; font-size: .85em; color: #555; }
        td.status.running { color: #1f5fa8; font-weight: bold; } td.status.failed { color: #b22; font-weight: bold; }
        td.status.pending { color: #777; }
        #chart svg { display: block; max-width: 100%; height: auto; }
        #legend { list-style: none; padding: 0; margin: .3em 0; font-size: .85em; columns: 3 18em; }
        #legend li { white-space: nowrap; } #legend .swatch { display: inline-block; width: 1.4em; height: .25em; vertical-align: middle; margin-right: .4em; }
        """

    static func document(title: String, body: [String]) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        \(body.joined(separator: "\n"))
        </body>
        </html>

        """
    }
}
