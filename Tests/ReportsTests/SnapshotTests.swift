import Testing
@testable import Reports
import ResultsStore
