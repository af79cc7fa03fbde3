import StrataCore

/// The schema's tables and foreign keys as an SVG drawing, made by the
/// registry itself (the pages fetch nothing). A layered layout: a table
/// stands one column to the right of every table it references, so the
/// references point left; tables in one column are stacked.
enum SchemaDiagram {
    static let rowHeight = 18, headerHeight = 24, gapX = 70, gapY = 24, margin = 16, charWidth = 8

    struct Box {
        let table: Table
        var x = 0, y = 0
        let width: Int
        var height: Int { SchemaDiagram.headerHeight + SchemaDiagram.rowHeight * table.columns.count + 6 }

        init(_ table: Table) {
            self.table = table
            // What a row says: "PK " or "FK ", the name, the type, " NOT NULL".
            let longest = ([table.name.count + 2] + table.columns.map { c in
                3 + c.name.count + 1 + max(c.type.count, 3) + (c.notNull ? 9 : 0)
            }).max() ?? 8
            width = max(120, longest * SchemaDiagram.charWidth + 20)
        }
    }

    static func svg(_ schema: Schema) -> String {
        let tables = schema.tables.values.sorted { $0.name.lowercased() < $1.name.lowercased() }
        guard !tables.isEmpty else {
            return #"<svg xmlns="http://www.w3.org/2000/svg" width="240" height="40" role="img" aria-label="no tables"><text x="8" y="24" class="empty">no tables at this revision</text></svg>"#
        }
        let layer = layers(tables)
        var boxes: [String: Box] = [:]
        var x = margin
        var height = 0
        for depth in 0...(layer.values.max() ?? 0) {
            var y = margin
            var widest = 0
            for t in tables where layer[t.name.lowercased()] == depth {
                var box = Box(t)
                box.x = x
                box.y = y
                y += box.height + gapY
                widest = max(widest, box.width)
                boxes[t.name.lowercased()] = box
            }
            height = max(height, y)
            x += widest + gapX
        }
        var out = #"<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="\#(x - gapX + margin)" height="\#(height)" role="img" aria-label="tables and foreign keys">"#
        out += #"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>"#
        // References first, so the boxes are drawn over them.
        for t in tables {
            let from = boxes[t.name.lowercased()]!
            for fk in t.constraints.foreignKeys {
                guard let to = boxes[fk.referencedTable.lowercased()] else { continue }
                let row = fk.columns.first.flatMap { t.columnIndex($0) } ?? 0
                let y1 = from.y + headerHeight + row * rowHeight + rowHeight / 2 + 2
                let y2 = to.y + headerHeight / 2
                let label = "\(t.name).\(fk.columns.joined(separator: ",")) references \(fk.referencedTable)"
                if to.x == from.x { // a reference within one column (itself, or a cycle): a loop on the right
                    let right = from.x + max(from.width, to.width)
                    out += #"<path class="fk" d="M \#(right) \#(y1) C \#(right + 40) \#(y1), \#(right + 40) \#(y2), \#(right) \#(y2)" marker-end="url(#arrow)"><title>\#(escape(label))</title></path>"#
                } else {
                    let x1 = from.x, x2 = to.x + to.width
                    out += #"<path class="fk" d="M \#(x1) \#(y1) C \#(x1 - 35) \#(y1), \#(x2 + 35) \#(y2), \#(x2) \#(y2)" marker-end="url(#arrow)"><title>\#(escape(label))</title></path>"#
                }
            }
        }
        for t in tables {
            let b = boxes[t.name.lowercased()]!
            let fkColumns = Set(t.constraints.foreignKeys.flatMap { $0.columns.map { $0.lowercased() } })
            let pk = Set(t.constraints.primaryKey.map { $0.lowercased() })
            out += #"<g class="table" data-table="\#(escape(t.name))">"#
            out += #"<rect x="\#(b.x)" y="\#(b.y)" width="\#(b.width)" height="\#(b.height)" rx="4" class="box"/>"#
            out += #"<rect x="\#(b.x)" y="\#(b.y)" width="\#(b.width)" height="\#(headerHeight)" rx="4" class="header"/>"#
            out += #"<text x="\#(b.x + 8)" y="\#(b.y + 16)" class="name">\#(escape(t.name))</text>"#
            for (i, c) in t.columns.enumerated() {
                let y = b.y + headerHeight + (i + 1) * rowHeight - 2
                // Key marks in words: the machines that run the registry may have no emoji font.
                let mark = pk.contains(c.name.lowercased()) ? "PK" : fkColumns.contains(c.name.lowercased()) ? "FK" : ""
                out += #"<text x="\#(b.x + 8)" y="\#(y)" class="column"><tspan class="mark">\#(mark)</tspan>"#
                out += #"<tspan x="\#(b.x + 30)">\#(escape(c.name))</tspan>"#
                out += #"<tspan class="type"> \#(escape(c.type.isEmpty ? "ANY" : c.type))\#(c.notNull ? " NOT NULL" : "")</tspan></text>"#
            }
            out += "</g>"
        }
        return out + "</svg>"
    }

    /// Each table's column: one more than the deepest table it references
    /// (a cycle is cut where it closes).
    static func layers(_ tables: [Table]) -> [String: Int] {
        let byName = Dictionary(tables.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        var depth: [String: Int] = [:]
        func visit(_ name: String, _ path: Set<String>) -> Int {
            if let d = depth[name] { return d }
            guard let t = byName[name] else { return -1 }
            var d = 0
            for fk in t.constraints.foreignKeys {
                let parent = fk.referencedTable.lowercased()
                guard parent != name, !path.contains(parent), byName[parent] != nil else { continue }
                d = max(d, visit(parent, path.union([name])) + 1)
            }
            depth[name] = d
            return d
        }
        for t in tables { _ = visit(t.name.lowercased(), []) }
        return depth
    }

    /// Text in SVG or HTML: names come from events, which anyone with a push token writes.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
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
}
