import Foundation
import StrataLog
import StrataCore
import StrataSQLite
import StrataStore
import StrataWire

/// What a sync says while it works.
package protocol SyncObserver: Sendable {
    /// A report the registry will never take was dropped (it is never sent again).
    func warn(_ message: String)
    /// A pull's progress after each page, and a push's after each request:
    /// events done so far, and how many are left (nil when the registry does
    /// not say; 0 at the end).
    func progress(_ transfer: Syncer.Transfer, done: Int, remaining: Int?)
}

/// Says nothing (tests, and callers with no one to tell).
package struct QuietObserver: SyncObserver {
    package init() {}
    package func warn(_ message: String) {}
    package func progress(_ transfer: Syncer.Transfer, done: Int, remaining: Int?) {}
}

/// Exchanges a project's events with the registry.
package final class Syncer {
    package let project: Project
    package let client: RegistryClient
    /// Hears warnings and progress (the CLI prints them).
    package let observer: any SyncObserver
    var log: any SyncLog { project.log }
    /// About how many events one push request carries (a pull's page is 1000).
    package var pushChunk = 1000

    package init(project: Project, client: RegistryClient, observer: any SyncObserver = QuietObserver()) {
        self.project = project
        self.client = client
        self.observer = observer
    }

    /// The registry's head as this node last saw it.
    package var remoteHead: String? { get throws { try log.meta("remote_head") } }

    // MARK: - Pull

    package struct PullResult: Sendable {
        /// Events this log did not have.
        package let pulled: Int
        /// The registry's head after the pull.
        package let remoteHead: String?
        /// How many heads the local log has now (more than one: unpushed
        /// local work to rebase or merge with `sync`).
        package let localHeads: Int
    }

    /// Pulls, and says where the log stands afterwards.
    package func pullAndReport() throws -> PullResult {
        flushOutbox()
        let n = try pull()
        return PullResult(pulled: n, remoteHead: try remoteHead, localHeads: try log.heads().count)
    }

    /// Brings in the registry's events this log lacks, page by page, from
    /// where the last pull or push ended: its cost grows with what is new,
    /// not with the log's length.
    @discardableResult
    package func pull() throws -> Int {
        var after = try remoteHead
        if let a = after, !(try log.contains(a)) { after = nil }
        var added = 0
        var received = 0
        observer.progress(.pull, done: 0, remaining: nil)
        while true {
            let page: EventsPage
            do {
                page = try client.events(after: after)
            } catch SyncError.rejected(404, _, code: RegistryCodes.unknownCursor) where after != nil {
                after = nil // the registry does not know our cursor (it was reset): start over
                continue
            }
            let new = try page.events.filter { !(try log.contains($0.event.id)) }
            let acknowledged = page.events.map { (id: $0.event.id, by: $0.pushedBy, at: $0.pushedAt) }
            if !new.isEmpty {
                try project.checkTrust(new.map(\.event), "nothing was pulled")
                // The events and who pushed them, in one transaction.
                try log.appendPulled(new.map(\.event), receipts: acknowledged)
                added += new.count
            } else {
                try log.markPushed(acknowledged)
            }
            if let last = page.events.last { after = last.event.id }
            received += page.events.count
            observer.progress(.pull, done: received, remaining: page.more ? page.remaining : 0)
            if !page.more {
                try log.setMeta("remote_head", page.head)
                return added
            }
        }
    }

    // MARK: - Push

    package struct PushResult: Sendable {
        package let pushed: Int
        package let head: String?
    }

    /// What `strata push` does: delivers queued reports, then pushes.
    package func publish() throws -> PushResult {
        flushOutbox()
        return try push()
    }

    /// Sends the events the registry has not acknowledged, in requests of
    /// about `pushChunk` events (each atomic on the registry, each marked
    /// pushed here once acknowledged). A request ends only where the events
    /// sent so far leave the registry one head, so a merge travels with both
    /// of its branches. Each push names the registry head it builds on; a
    /// stale one is refused whole (exit 3).
    @discardableResult
    package func push() throws -> PushResult {
        let heads = try log.heads()
        guard heads.count <= 1 else {
            throw ProjectError("the local log has \(heads.count) heads; run `strata sync` (it rebases or merges) before pushing")
        }
        let pending = try log.unpublished()
        var head = try remoteHead
        guard !pending.isEmpty else { return PushResult(pushed: 0, head: head) }
        var sent = 0
        observer.progress(.push, done: 0, remaining: pending.count)
        for chunk in Syncer.chunks(pending, onto: head, size: pushChunk) {
            let result = try client.push(chunk, base: head)
            try log.markPushed(chunk.map { (id: $0.id, by: result.pushedBy, at: result.pushedAt) })
            try log.setMeta("remote_head", result.head)
            head = result.head
            sent += chunk.count
            observer.progress(.push, done: sent, remaining: pending.count - sent)
        }
        return PushResult(pushed: pending.count, head: head)
    }

    /// Events to push, parents first, cut into runs of at least `size`
    /// events where the registry would be left with one head.
    package static func chunks(_ events: [Event], onto base: String?, size: Int) -> [[Event]] {
        var open: Set<String> = base.map { [$0] } ?? []
        var chunks: [[Event]] = [[]]
        for e in events {
            chunks[chunks.count - 1].append(e)
            open.subtract(e.parents)
            open.insert(e.id)
            if chunks[chunks.count - 1].count >= size, open.count == 1, e.id != events.last?.id { chunks.append([]) }
        }
        return chunks
    }

    // MARK: - Sync

    package struct SyncResult: Sendable {
        package var pulled = 0
        package var rebased = 0
        package var merged: String?
        /// How many unpushed revisions `sync --redo` replaced, and the one
        /// that replaced them (nil when the models file equals the registry's head).
        package var replaced = 0
        package var redone: String?
        package var pushed = 0
        /// The registry's head once the sync is done.
        package var remoteHead: String?
    }

    /// Pull; then rebase the unpushed local events onto the registry's head
    /// when they still apply (they are re-hashed: nobody has seen them), or
    /// else record a merge event; then push. A lost race (someone pushed in
    /// between) starts over. With `redo` (and its rename hints), the unpushed
    /// events are instead replaced by one revision from the registry's head
    /// to the models file.
    package func sync(preferMerge: Bool = false, redo: RenameHints? = nil, now: Int64) throws -> SyncResult {
        var result = SyncResult()
        flushOutbox()
        for attempt in 0..<12 {
            result.pulled += try pull()
            let remote = try remoteHead
            if let renames = redo {
                let pending = try log.unpublished()
                if !pending.isEmpty {
                    result.replaced += pending.count
                    result.redone = try project.redo(pending, onto: remote, renames: renames, now: now)?.event.id
                }
            } else if try log.heads().count > 1 {
                if !preferMerge, let rebased = try rebaseUnpublished(onto: remote) {
                    result.rebased += rebased
                } else {
                    result.merged = try mergeWithRegistry(remote, now: now)
                }
            }
            do {
                result.pushed += try push().pushed
                result.remoteHead = try remoteHead
                return result
            } catch SyncError.conflict {
                // Someone pushed between our pull and our push: again, after a pause.
                Thread.sleep(forTimeInterval: Double.random(in: 0.02...0.1) * Double(attempt + 1))
                continue
            }
        }
        throw SyncError.conflict(head: try remoteHead, "the registry kept moving while this node synced (12 attempts)")
    }

    /// A merge event joining local work with the registry's head, or
    /// `diverged` when the two change the same objects differently.
    func mergeWithRegistry(_ remote: String?, now: Int64) throws -> String {
        do {
            return try project.merge(message: "Merge registry head \(remote.map { String($0.prefix(12)) } ?? "base") into local work", now: now).id
        } catch let error as MergeConflict {
            throw SyncError.diverged(local: try log.unpublished().map { "\($0.id.prefix(12)) \"\($0.message)\"" }, head: remote,
                                     reason: error.reason)
        }
    }

    /// Re-parents the unpublished events onto `remote`. Nil when they do not
    /// apply there (or contain a merge), and the caller merges instead.
    func rebaseUnpublished(onto remote: String?) throws -> Int? {
        let pending = try log.unpublished()
        guard !pending.isEmpty, !pending.contains(where: { $0.parents.count > 1 }) else { return nil }
        var state = try log.state(at: remote)
        var parent = remote
        var rebased: [Event] = []
        for e in pending {
            guard (try? state.apply(e.ops)) != nil else { return nil }
            // Re-hashed, so signed again by this node (the old signature covered the old bytes).
            let moved = try project.signed(e.moved(to: parent.map { [$0] } ?? []))
            rebased.append(moved)
            parent = moved.id
        }
        try log.replaceUnpublished(pending.map(\.id), with: rebased)
        return rebased.count
    }

    // MARK: - Reports

    /// Tells the registry where a database is now; queues the report when it
    /// cannot be delivered, to be sent by a later command. Returns why it
    /// was queued, or nil when it was delivered.
    package func report(_ report: Report) -> Error? { self.report([report]) }

    /// Reports from a run over many databases, a page of them per request.
    /// What cannot be delivered waits in the outbox, in order.
    package func report(_ reports: [Report]) -> Error? {
        let reports = reports.filter(acceptable)
        guard !reports.isEmpty else { return nil }
        // Queued reports go first: the registry keeps the latest report per
        // database, so a newer one must never overtake an older one.
        if let blocked = flush().error {
            enqueue(reports[...])
            return blocked
        }
        var rest = reports[...]
        while !rest.isEmpty {
            let page = Array(rest.prefix(Report.pageSize))
            let (delivered, error) = deliver(page)
            if let error {
                enqueue(rest.dropFirst(delivered))
                return error
            }
            rest = rest.dropFirst(page.count)
        }
        return nil
    }

    package enum Transfer: String, Sendable { case pull = "pulled", push = "pushed" }

    /// A report the registry would refuse (a node name it does not allow,
    /// say) is dropped here with a warning instead of waiting forever.
    func acceptable(_ r: Report) -> Bool {
        do {
            _ = try Report(json: r.json)
            return true
        } catch {
            observer.warn("the report of \(r.database) was dropped: \(error)")
            return false
        }
    }

    /// Sends one page. A page refused as invalid (400: every report of a
    /// page is taken, or none) is sent again a report at a time, and a
    /// report refused on its own is dropped with a warning, so one bad
    /// report does not hold the others back. Returns how many reports of the
    /// page are done with (sent or dropped) and the error that stopped it.
    private func deliver(_ page: [Report]) -> (done: Int, error: Error?) {
        do {
            try client.report(page)
            return (page.count, nil)
        } catch SyncError.rejected(400, _, _) where page.count > 1 {
            for (n, r) in page.enumerated() {
                let (_, error) = deliver([r])
                if let error { return (n, error) }
            }
            return (page.count, nil)
        } catch SyncError.rejected(400, let message, _) {
            observer.warn("the registry refused the report of \(page[0].database) (\(message)); it was dropped")
            return (1, nil)
        } catch {
            return (0, error)
        }
    }

    private func enqueue(_ reports: ArraySlice<Report>) {
        for r in reports { try? log.enqueue(kind: "report", body: r.json.canonicalString) }
    }

    /// Sends queued reports, oldest first, a page per request; stops at the first failure.
    @discardableResult
    package func flushOutbox() -> Int { flush().sent }

    private func flush() -> (sent: Int, error: Error?) {
        guard let queued = try? log.queued() else { return (0, nil) }
        var pending: [(seq: Int64, report: Report)] = []
        for item in queued where item.kind == "report" {
            do {
                pending.append((item.seq, try Report(json: try JSON.parse(item.body))))
            } catch {
                observer.warn("a queued report was dropped: \(error)")
                try? log.dequeue(item.seq)
            }
        }
        var sent = 0
        while sent < pending.count {
            let page = pending[sent..<min(sent + Report.pageSize, pending.count)]
            let (done, error) = deliver(page.map(\.report))
            for item in page.prefix(done) { try? log.dequeue(item.seq) }
            sent += done
            if let error { return (sent, error) }
        }
        return (sent, nil)
    }
}
