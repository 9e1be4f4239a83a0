/// Why an address is on the suppression list.
public enum SuppressionReason: String, Sendable, Hashable, CaseIterable, Codable {
    case spamComplaint = "spam_complaint"
    case unsubscribed
    case hardBounce = "hard_bounce"
    case manual
}

/// Whether an event puts its recipient on the suppression list: a spam
/// complaint, an unsubscribe, or a bounce that says the address itself is bad.
/// Soft and undetermined bounces stop the enrollment but keep the address usable.
public func suppressionReason(for event: Event) -> SuppressionReason? {
    switch event.type {
    case .complained: .spamComplaint
    case .unsubscribed: .unsubscribed
    case .bounced where event.bounceClass == .hard: .hardBounce
    default: nil
    }
}
