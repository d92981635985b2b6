import Foundation

extension Report {
    /// Training loss over optimizer steps, one row of panels per method (and sweep point): a
    /// panel per regularizer with the loss its runs trained on (so ICL-MSR's base-plus-
    /// regularizer loss and a plain run's loss each get their own y axis), then, when ICL-MSR runs
    /// logged `loss_base`, a panel with every regularizer's base contrastive loss on one axis.
    /// Colour = regularizer, dash = train view; line = mean over seeds, band = min–max over seeds.
    public func lossCurvesSVG() -> String {
        stepPanelsSVG(title: "Training loss per optimizer step (mean over seeds, band = min–max over seeds)", blocks: lossBlocks(),
                      missing: "no \(options.lossKey) metrics recorded",
                      notes: ["Each regularizer's panel shows the loss its runs trained on (for icl-msr: the base contrastive loss plus the "
                              + "weighted regularizer term). The \"base loss\" panel puts the base contrastive loss of every regularizer on one "
                              + "axis: \(StepMetricKey.baseLoss) where a run logs it, \(options.lossKey) otherwise."])
    }

    /// Learning rate and representation similarity over optimizer steps, one row of panels per
    /// method (and sweep point): the learning rate, the mean cosine of positive pairs and the mean
    /// cosine of negative pairs (each panel omitted when no run logged its metric). Colour =
    /// regularizer, dash = train view; line = mean over seeds, band = min–max over seeds.
    public func learningRateAndSimilaritySVG() -> String {
        stepPanelsSVG(title: "Learning rate and pair similarity per optimizer step (mean over seeds, band = min–max over seeds)",
                      blocks: learningRateAndSimilarityBlocks(), missing: "no lr, pos_sim or neg_sim metrics recorded",
                      notes: ["Positive pairs: mean cosine between the two views of an image (\(StepMetricKey.positiveSimilarity)); negative "
                              + "pairs: mean cosine between different images (\(StepMetricKey.negativeSimilarity)). Both rising towards 1 "
                              + "together is a sign of collapse."])
    }

    /// Whether any finished run logged the learning rate or a pair similarity.
    var hasLearningRateOrSimilarity: Bool {
        [StepMetricKey.learningRate, StepMetricKey.positiveSimilarity, StepMetricKey.negativeSimilarity].contains { !stepGroups($0).isEmpty }
    }

    /// Renders blocks of step panels: a title, a legend (colour per regularizer, dash per train
    /// view), each block under its own heading on row(s) of at most three panels, then the notes.
    func stepPanelsSVG(title: String, blocks: [StepBlock], missing: String, notes: [String]) -> String {
        let lines = blocks.flatMap { $0.panels.flatMap(\.lines) }
        let regularizers = Self.ordered(Set(lines.map(\.group.regularizer)), by: [options.baseline, "icl-msr"])
        let trainViews = Self.ordered(Set(lines.map(\.group.trainView)), by: Self.trainViewOrder)
        func colour(_ g: CellGroup) -> String { SVG.palette[(regularizers.firstIndex(of: g.regularizer) ?? 0) % SVG.palette.count] }
        func dash(_ g: CellGroup) -> String? { SVG.dashes[(trainViews.firstIndex(of: g.trainView) ?? 0) % SVG.dashes.count] }

        let (pw, ph, headingHeight) = (340.0, 236.0, 22.0)
        let cols = min(3, max(1, blocks.map(\.panels.count).max() ?? 1))
        let blockHeights = blocks.map { headingHeight + ph * Double(($0.panels.count + cols - 1) / cols) }
        let width = max(Double(cols) * pw + 10, 700)
        let noteLines = ["Line: mean over seeds; band: min to max over seeds (none with one seed); each seed's curve averaged into at most "
                         + "\(options.maxCurvePoints) step buckets."] + notes
        let wrapped = noteLines.flatMap { Self.wrap($0, width: Int((width - 8) / 5.4)) }
        let panelsTop = 44.0
        let notesTop = panelsTop + max(40, blockHeights.reduce(0, +)) + 8
        let height = notesTop + 14 * Double(wrapped.count)
        var out = [SVG.open(width: width, height: height, label: title)]
        out.append(SVG.text(4, 16, title, size: 13, weight: "bold"))
        var legend: [(label: String, colour: String, dash: String?)] = []
        for (k, regularizer) in regularizers.enumerated() { legend.append((regularizer, SVG.palette[k % SVG.palette.count], nil)) }
        for (k, view) in trainViews.enumerated() { legend.append(("train \(view)", "#555", SVG.dashes[k % SVG.dashes.count])) }
        out += SVG.legend(legend, y: 34)
        if blocks.isEmpty { out.append(SVG.text(4, panelsTop + 24, missing, fill: "#555")) }
        var blockTop = panelsTop
        for (block, blockHeight) in zip(blocks, blockHeights) {
            out.append(SVG.text(4, blockTop + 16, block.title, size: 12, weight: "bold"))
            for (k, panel) in block.panels.enumerated() {
                let (ox, oy) = (Double(k % cols) * pw, blockTop + headingHeight + ph * Double(k / cols))
                out += stepPanel(panel, area: PlotArea(left: ox + 64, top: oy + 22, right: ox + pw - 14, bottom: oy + ph - 42),
                                 colour: colour, dash: dash)
            }
            blockTop += blockHeight
        }
        for (i, line) in wrapped.enumerated() { out.append(SVG.text(4, notesTop + 14 * Double(i), line, size: 10, fill: "#555")) }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// One panel: its title, a light grid with nice ticks, axis titles ("step" and the panel's
    /// y label), then per line a min–max band (when the seeds differ) and the mean polyline (a
    /// dot for a single point).
    func stepPanel(_ panel: StepPanel, area: PlotArea, colour: (CellGroup) -> String, dash: (CellGroup) -> String?) -> [String] {
        let (xTicks, yTicks) = (panel.xTicks, panel.yTicks)
        let (x, y) = (area.xScale(xTicks), area.yScale(yTicks))
        var out = [SVG.text(area.left, area.top - 8, panel.title, size: 11, weight: "bold")]
        out += area.yGrid(yTicks, label: yTicks.label)
        out += area.xGrid(xTicks, label: xTicks.label)
        out.append(area.outline)
        out.append(area.xTitle("step"))
        out.append(area.yTitle(panel.yLabel, offset: 50))
        for line in panel.lines {
            let (c, points) = (colour(line.group), line.bands)
            let tooltip = Format.html("\(line.group.label): \(line.key), \(points.map(\.n).max() ?? 0) seeds")
            if points.count > 1, points.contains(where: { $0.max > $0.min }) {
                let upper = points.map { "\(SVG.n(x($0.step))),\(SVG.n(y($0.max)))" }
                let lower = points.reversed().map { "\(SVG.n(x($0.step))),\(SVG.n(y($0.min)))" }
                out.append("<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(c)\" fill-opacity=\"0.15\" stroke=\"none\"/>")
            }
            if points.count == 1 {
                if points[0].max > points[0].min {
                    out.append("<line x1=\"\(SVG.n(x(points[0].step)))\" y1=\"\(SVG.n(y(points[0].min)))\" x2=\"\(SVG.n(x(points[0].step)))\" "
                               + "y2=\"\(SVG.n(y(points[0].max)))\" stroke=\"\(c)\" stroke-opacity=\"0.4\" stroke-width=\"3\"/>")
                }
                out.append("<circle cx=\"\(SVG.n(x(points[0].step)))\" cy=\"\(SVG.n(y(points[0].mean)))\" r=\"2.5\" fill=\"\(c)\"><title>\(tooltip)</title></circle>")
            } else {
                let d = points.map { "\(SVG.n(x($0.step))),\(SVG.n(y($0.mean)))" }.joined(separator: " ")
                out.append("<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.6\"\(SVG.dashAttribute(dash(line.group))) points=\"\(d)\"><title>\(tooltip)</title></polyline>")
            }
        }
        return out
    }

    /// `text` broken between words into lines of at most `width` characters.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty, current.count + 1 + word.count > width { lines.append(current); current = "" }
            current += (current.isEmpty ? "" : " ") + word
        }
        return current.isEmpty ? lines : lines + [current]
    }
}
