/// Everything a store refuses, each with what the operator needs to act on it.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownSequence(String)
    case unknownMailbox(String)
    case unknownInfluencer(String)
    case mailboxExists(String)
    case mailboxDisconnected(String)
    case suppressed(email: String, reason: String)
    case alreadyEnrolled(email: String, sequence: String, status: String)
    case errorEnrollmentExists(email: String, sequence: String)
    case notEnrolled(email: String, sequence: String)
    case emailTaken(String)
    case stepsRemovedWhileActive(sequence: String, active: Int, steps: Int)
    case newerSchema(found: Int, known: Int)
    case unavailable(String)

    public var description: String {
        switch self {
        case .unknownSequence(let name):
            "There is no sequence named '\(name)'; `seqbridge sequence list` shows the ones there are."
        case .unknownMailbox(let name):
            "There is no mailbox named '\(name)'; `seqbridge mailbox list` shows the ones there are."
        case .unknownInfluencer(let email): "No influencer has the address \(email)."
        case .mailboxExists(let name): "A mailbox named '\(name)' already exists."
        case .mailboxDisconnected(let name):
            "Mailbox '\(name)' is disconnected; reconnect it with `seqbridge mailbox reconnect \(name)` first."
        case .suppressed(let email, let reason):
            "\(email) is on the suppression list (\(reason)); pass --force to enrol it anyway."
        case .alreadyEnrolled(let email, let sequence, let status):
            "\(email) is already enrolled in '\(sequence)' (\(status))."
        case .errorEnrollmentExists(let email, let sequence):
            "\(email) has an enrollment in Error in '\(sequence)'; unenroll it first, or use `seqbridge reenroll`."
        case .notEnrolled(let email, let sequence):
            "\(email) has no running or errored enrollment in '\(sequence)'."
        case .emailTaken(let email): "Another influencer already has the address \(email)."
        case .stepsRemovedWhileActive(let sequence, let active, let steps):
            "Sequence '\(sequence)' cannot shrink to \(steps) step(s): \(active) running enrollment(s) have already been sent that many; unenroll them or keep the steps."
        case .newerSchema(let found, let known):
            "The database was written by a newer seqbridge (schema \(found), this one knows \(known)); upgrade seqbridge."
        case .unavailable(let why): "The database is not available: \(why)."
        }
    }
}
