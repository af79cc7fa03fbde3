import StrataCore

/// The schema's tables and foreign keys as an SVG drawing, made by the
/// registry itself (the pages fetch nothing): this lays it out, the
/// `diagram` template (PageTemplates) writes it. A layered layout: a table
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

    /// The drawing as the `diagram` template's context: where each table,
    /// row and reference goes. The template writes the SVG and escapes every
    /// name (names come from events, which anyone with a push token writes).
    static func layout(_ schema: Schema) -> [String: Any] {
        let tables = Schema.byName(schema.tables.values)
        guard !tables.isEmpty else { return ["empty": true] }
        let layer = layers(tables)
        var boxes: [String: Box] = [:]
        var x = margin
        var height = 0
        for depth in 0...(layer.values.max() ?? 0) {
            var y = margin
            var widest = 0
            for t in tables where layer[SQL.nameKey(t.name)] == depth {
                var box = Box(t)
                box.x = x
                box.y = y
                y += box.height + gapY
                widest = max(widest, box.width)
                boxes[SQL.nameKey(t.name)] = box
            }
            height = max(height, y)
            x += widest + gapX
        }
        var edges: [[String: Any]] = []
        for t in tables {
            let from = boxes[SQL.nameKey(t.name)]!
            for fk in t.constraints.foreignKeys {
                guard let to = boxes[SQL.nameKey(fk.referencedTable)] else { continue }
                let row = fk.columns.first.flatMap { t.columnIndex($0) } ?? 0
                let y1 = from.y + headerHeight + row * rowHeight + rowHeight / 2 + 2
                let y2 = to.y + headerHeight / 2
                let path: String
                if to.x == from.x { // a reference within one column (itself, or a cycle): a loop on the right
                    let right = from.x + max(from.width, to.width)
                    path = "M \(right) \(y1) C \(right + 40) \(y1), \(right + 40) \(y2), \(right) \(y2)"
                } else {
                    let x1 = from.x, x2 = to.x + to.width
                    path = "M \(x1) \(y1) C \(x1 - 35) \(y1), \(x2 + 35) \(y2), \(x2) \(y2)"
                }
                edges.append(["d": path, "title": "\(t.name).\(fk.columns.joined(separator: ",")) references \(fk.referencedTable)"])
            }
        }
        let drawn = tables.map { t -> [String: Any] in
            let b = boxes[SQL.nameKey(t.name)]!
            let fkColumns = Set(t.constraints.foreignKeys.flatMap { $0.columns.map { SQL.nameKey($0) } })
            let pk = Set(t.constraints.primaryKey.map { SQL.nameKey($0) })
            let rows = t.columns.enumerated().map { i, c -> [String: Any] in
                // Key marks in words: the machines that run the registry may have no emoji font.
                ["y": b.y + headerHeight + (i + 1) * rowHeight - 2, "markX": b.x + 8, "nameX": b.x + 30, "name": c.name,
                 "mark": pk.contains(SQL.nameKey(c.name)) ? "PK" : fkColumns.contains(SQL.nameKey(c.name)) ? "FK" : "",
                 "type": c.type.isEmpty ? "ANY" : c.type, "notNull": c.notNull]
            }
            return ["name": t.name, "x": b.x, "y": b.y, "width": b.width, "height": b.height, "headerHeight": headerHeight,
                    "nameX": b.x + 8, "nameY": b.y + 16, "rows": rows]
        }
        return ["width": x - gapX + margin, "height": height, "edges": edges, "tables": drawn]
    }

    /// Each table's column: one more than the deepest table it references
    /// (a cycle is cut where it closes).
    static func layers(_ tables: [Table]) -> [String: Int] {
        let byName = Dictionary(tables.map { (SQL.nameKey($0.name), $0) }, uniquingKeysWith: { a, _ in a })
        var depth: [String: Int] = [:]
        func visit(_ name: String, _ path: Set<String>) -> Int {
            if let d = depth[name] { return d }
            guard let t = byName[name] else { return -1 }
            var d = 0
            for fk in t.constraints.foreignKeys {
                let parent = SQL.nameKey(fk.referencedTable)
                guard parent != name, !path.contains(parent), byName[parent] != nil else { continue }
                d = max(d, visit(parent, path.union([name])) + 1)
            }
            depth[name] = d
            return d
        }
        for t in tables { _ = visit(SQL.nameKey(t.name), []) }
        return depth
    }
}
