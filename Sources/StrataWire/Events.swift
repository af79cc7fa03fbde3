import StrataCore

/// An event as the registry serves it: the event plus who pushed it, when.
package struct PushedEvent: Sendable, Equatable {
    package let event: Event
    package let pushedBy: String
    package let pushedAt: String

    package init(event: Event, pushedBy: String, pushedAt: String) {
        self.event = event
        self.pushedBy = pushedBy
        self.pushedAt = pushedAt
    }

    /// The wire form: the event with its id, plus who pushed it and when.
    package var json: JSON {
        guard case .object(var fields) = event.jsonWithID else { return event.jsonWithID }
        fields["pushed_by"] = .string(pushedBy)
        fields["pushed_at"] = .string(pushedAt)
        return .object(fields)
    }

    /// Reads one served event; its id must be the hash of its contents.
    package init(json: JSON) throws {
        guard case .object(var fields) = json, let id = fields["id"]?.stringValue,
              let by = fields.removeValue(forKey: "pushed_by")?.stringValue,
              let at = fields.removeValue(forKey: "pushed_at")?.stringValue else {
            throw WireError("an event lacks id, pushed_by or pushed_at")
        }
        let event: Event
        do { event = try Event(wire: fields) } catch { throw WireError("event \(id.prefix(12)): \(error)") }
        self.init(event: event, pushedBy: by, pushedAt: at)
    }
}

/// `GET /v1/projects/{project}/events`: one page of events after a cursor.
package struct EventsPage: Sendable, Equatable {
    package var events: [PushedEvent]
    package var more: Bool
    package var head: String?
    /// How many events come after this page (a pull's progress); absent
    /// from registries that do not say.
    package var remaining: Int?

    package init(events: [PushedEvent], more: Bool, head: String?, remaining: Int? = nil) {
        self.events = events
        self.more = more
        self.head = head
        self.remaining = remaining
    }

    package var json: JSON {
        var fields: [String: JSON] = ["events": .array(events.map(\.json)), "more": .bool(more), "head": .optional(head)]
        if let remaining { fields["remaining"] = .int(Int64(remaining)) }
        return .object(fields)
    }

    package init(json: JSON) throws {
        let f = try Fields(json, "events page")
        let remaining = try f.optionalInt("remaining")
        self.init(events: try f.array("events").map(PushedEvent.init(json:)), more: try f.optionalBool("more") ?? false,
                  head: try f.optionalString("head"), remaining: remaining.map(Int.init))
    }
}

/// `POST /v1/projects/{project}/events`: events that build on `base`, the
/// registry head the node last saw (compare-and-swap).
package struct PushRequest: Sendable, Equatable {
    package var base: String?
    package var events: [Event]

    package init(base: String?, events: [Event]) {
        self.base = base
        self.events = events
    }

    package var json: JSON { .object(["base": .optional(base), "events": .array(events.map(\.jsonWithID))]) }

    /// Re-validates every event: its id is recomputed from its own fields.
    package init(json: JSON) throws {
        guard case .object = json, let items = json["events"]?.arrayValue, !items.isEmpty else {
            throw WireError("expected {\"base\": ID or null, \"events\": [EVENT, ...]} with at least one event")
        }
        switch json["base"] {
        case .string(let b)?: base = b
        case .null?, nil: base = nil
        default: throw WireError("base must be an event id or null")
        }
        events = try items.enumerated().map { n, item -> Event in
            guard case .object(let fields) = item, let claimed = fields["id"]?.stringValue else {
                throw WireError("event \(n): expected an object with an id")
            }
            do { return try Event(wire: fields) } catch {
                throw WireError("event \(n) (\(claimed.prefix(12))): \(error)")
            }
        }
    }
}

/// The answer to a push: the new head and who the registry says pushed.
package struct PushResponse: Sendable, Equatable {
    package var head: String
    package var accepted: Int
    package var pushedBy: String
    package var pushedAt: String

    package init(head: String, accepted: Int, pushedBy: String, pushedAt: String) {
        self.head = head
        self.accepted = accepted
        self.pushedBy = pushedBy
        self.pushedAt = pushedAt
    }

    package var json: JSON {
        .object(["head": .string(head), "accepted": .int(Int64(accepted)), "pushed_by": .string(pushedBy), "pushed_at": .string(pushedAt)])
    }

    package init(json: JSON) throws {
        let f = try Fields(json, "push answer")
        self.init(head: try f.string("head"), accepted: Int(try f.int("accepted")), pushedBy: try f.string("pushed_by"),
                  pushedAt: try f.string("pushed_at"))
    }
}

/// Every answer other than 2xx: a message for people and a stable code for
/// machines (and, on 409, the registry's head).
/// Error codes the client acts on (the others it only shows).
package enum RegistryCodes {
    /// A pull's `after` is unknown to the registry: pull from the start.
    package static let unknownCursor = "pull.unknown_after"
}

package struct ErrorBody: Sendable, Equatable {
    package var message: String
    package var code: String
    package var head: String??

    package init(message: String, code: String, head: String?? = nil) {
        self.message = message
        self.code = code
        self.head = head
    }

    package var json: JSON {
        var fields: [String: JSON] = ["error": .string(message), "code": .string(code)]
        if let head { fields["head"] = .optional(head) }
        return .object(fields)
    }

    /// Lenient: any answer with an `error` string (a proxy's body has none).
    package init?(json: JSON?) {
        guard let json, let message = json["error"]?.stringValue else { return nil }
        self.init(message: message, code: json["code"]?.stringValue ?? "", head: json["head"].map { $0.stringValue })
    }
}
