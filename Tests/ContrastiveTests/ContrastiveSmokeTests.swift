import Testing
@testable import Contrastive
