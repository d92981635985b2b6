import Contrastive
import Evaluation
